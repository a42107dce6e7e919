//! cgroups on the development host, a cgroup v1/v2 hybrid whose v2 hierarchy
//! (/sys/fs/cgroup/unified) has no resource controller: limits fail closed naming the missing
//! controller, and without limits every container is still tracked in the v2 hierarchy, so
//! pause, resume, ps, events and kill --all work. Every cgroup a test makes is checked gone.
//! Real enforcement is tested in the pure v2 VM (tests/cgroups_vm.rs).

mod common;
use common::cgroup::*;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The host's v2 mount, or a skip note.
fn v2(test: &str) -> Option<PathBuf> {
    let m = v2_mount();
    if m.is_none() {
        note(test, "no cgroup v2 hierarchy on this host: skipped");
    }
    m
}

#[test]
fn limits_fail_closed_naming_the_missing_controller() {
    let Some(mount) = v2("limits_fail_closed_naming_the_missing_controller") else { return };
    let available = controllers(&mount);
    let cases = [
        ("memory", "memory", json!({"limit": 33554432}), "linux.resources.memory.limit"),
        ("cpu", "cpu", json!({"quota": 20000}), "linux.resources.cpu.quota"),
        ("cpuset", "cpu", json!({"cpus": "0"}), "linux.resources.cpu.cpus"),
        ("pids", "pids", json!({"limit": 10}), "linux.resources.pids.limit"),
        ("io", "blockIO", json!({"weight": 100}), "linux.resources.blockIO.weight"),
    ];
    let rt = Runtime::unconfined();
    let mut checked = 0;
    for (controller, key, value, field) in cases {
        if available.contains(controller) {
            note("limits_fail_closed", &format!("this host's v2 hierarchy has {controller}: not checked"));
            continue;
        }
        let b = WorkBundle::new("sleep 100");
        b.resources(key, value);
        let id = unique("nolimit");
        let want = format!(
            "{field}: the {controller} controller is not available on the cgroup v2 hierarchy at {}",
            mount.display()
        );
        rt.create(&id, &b.bundle, &[]).fails_with(&want);
        assert!(rt.ids().is_empty(), "state left behind: {:?}", rt.ids());
        assert!(!mount.join("scutum").join(&id).exists(), "cgroup left behind");
        assert!(processes_with(&id).is_empty());
        checked += 1;
    }
    note("limits_fail_closed", &format!("{checked} controllers checked"));
}

#[test]
fn update_fails_closed_too() {
    let Some(mount) = v2("update_fails_closed_too") else { return };
    if controllers(&mount).contains("memory") {
        return note("update_fails_closed_too", "this host's v2 hierarchy has memory: skipped");
    }
    let rt = Runtime::unconfined();
    let b = WorkBundle::new("sleep 100");
    let id = unique("upd");
    start(&rt, &id, &b.bundle);
    rt.cmd(&["update", "--memory", "64m", &id])
        .fails_with("linux.resources.memory.limit: the memory controller is not available");
    // Nothing was written: the stored config keeps no memory limit.
    rt.cmd(&["update", "--pids-limit", "0", &id]).fails_with("ambiguous");
}

#[test]
fn pause_resume_ps_events_and_kill_all_work_without_controllers() {
    let Some(_) = v2("pause_resume_ps_events_and_kill_all") else { return };
    let rt = Runtime::unconfined();
    // The sleeps are forked before the init starts ignoring TERM.
    let b = WorkBundle::new(
        "sleep 1000 & sleep 1000 & trap '' TERM; i=0; \
         while true; do i=$((i+1)); echo $i > /work/count; sleep 0.05; done",
    );
    let id = unique("pr");
    start(&rt, &id, &b.bundle);
    let init = rt.state(&id)["pid"].as_i64().unwrap();
    let sleeps: Vec<i64> = wait_for("the two long sleeps", 10, || {
        let table = rt.cmd(&["ps", &id]).ok().stdout;
        let col = table.lines().next()?.split_whitespace().position(|h| h == "PID")?;
        let pids: Vec<i64> = table
            .lines()
            .filter(|l| l.ends_with("sleep 1000"))
            .filter_map(|l| l.split_whitespace().nth(col)?.parse().ok())
            .collect();
        assert!(
            !table.lines().skip(1).any(|l| l.contains("cgroups_host")),
            "ps shows a host process:\n{table}"
        );
        (pids.len() == 2).then_some(pids)
    });
    let pids = ps(&rt, &id);
    assert!(
        pids.contains(&init) && sleeps.iter().all(|p| pids.contains(p)),
        "{pids:?}: init {init}, {sleeps:?}"
    );

    rt.cmd(&["pause", &id]).ok();
    assert_eq!(rt.status(&id), "paused");
    assert!(read(cgroup_of(&rt, &id).join("cgroup.events")).contains("frozen 1"));
    let frozen = b.wait_file("count", 10);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(read(b.file("count")).trim(), frozen, "a paused container made progress");
    rt.cmd(&["pause", &id]).fails_with("paused");
    // exec into a paused container fails, unless --ignore-paused: then the process is born
    // frozen in the container's cgroup and runs once the container resumes.
    rt.cmd(&["exec", &id, "true"]).fails_with("paused");
    let late = {
        let (root, id) = (rt.root.path().to_path_buf(), id.clone());
        std::thread::spawn(move || {
            std::process::Command::new(scutum())
                .arg("--root")
                .arg(root)
                .args([
                    "--policy",
                    "unconfined",
                    "exec",
                    "--ignore-paused",
                    &id,
                    "sh",
                    "-c",
                    "echo late > /work/late",
                ])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!b.file("late").exists(), "a process ran in a paused container");
    rt.cmd(&["resume", &id]).ok();
    let out = late.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(read(b.file("late")).trim(), "late");
    rt.cmd(&["pause", &id]).ok();
    rt.cmd(&["resume", &id]).ok();
    assert_eq!(rt.status(&id), "running");
    wait_for("the counter to move again", 10, || (read(b.file("count")).trim() != frozen).then_some(()));
    rt.cmd(&["resume", &id]).fails_with("only a paused container can be resumed");

    let s = stats(&rt, &id);
    assert!(s["cpu"]["usage"]["total"].as_u64().unwrap() > 0, "{s}");

    // kill without --all reaches only the init, which ignores TERM; --all reaches the rest.
    rt.cmd(&["kill", &id, "TERM"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(sleeps.iter().all(|&p| !is_gone(p as i32)), "kill without --all reached the sleeps");
    rt.cmd(&["kill", "--all", &id, "TERM"]).ok();
    wait_for("the sleeps to die", 10, || sleeps.iter().all(|&p| is_gone(p as i32)).then_some(()));
    assert_eq!(rt.status(&id), "running", "the init ignores TERM");
    rt.cmd(&["kill", "--all", &id, "KILL"]).ok();
    rt.wait_status(&id, "stopped");
    rt.cmd(&["delete", &id]).ok();
}

#[test]
fn a_container_sees_only_its_own_cgroup() {
    let Some(_) = v2("a_container_sees_only_its_own_cgroup") else { return };
    let rt = Runtime::unconfined();
    let b = Bundle::sh("cat /proc/self/cgroup | grep '^0::'; cat /sys/fs/cgroup/cgroup.procs");
    let r = rt.run(&unique("ns"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "0::/\n1\n", "the init must be alone at the root of its cgroup namespace");
}

#[test]
fn cgroups_path_forms_map_like_runc_and_are_removed_on_delete() {
    let Some(mount) = v2("cgroups_path_forms") else { return };
    // No dashes: in a systemd slice name they mean nesting.
    let top = unique("scutumtest").replace('-', "_");
    // A parent that exists before the container: not scutum's, so it must survive delete.
    let keep = TestCgroup::make(mount.join(format!("{top}-keep")));
    let own = read("/proc/self/cgroup");
    let own = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap().trim_start_matches('/');
    let parent_of_own = Path::new(own).parent().map(Path::to_path_buf).unwrap_or_default();
    let cases: Vec<(Option<String>, bool, PathBuf, PathBuf)> = vec![
        // cgroupsPath, --systemd-cgroup, the cgroup, the top-most directory scutum makes
        (Some(format!("/{top}/a/c")), false, mount.join(&top).join("a/c"), mount.join(&top)),
        (
            Some(format!("{top}-rel/c")),
            false,
            mount.join(&parent_of_own).join(format!("{top}-rel/c")),
            mount.join(&parent_of_own).join(format!("{top}-rel")),
        ),
        (
            Some(format!("{top}-x.slice:pre:name")),
            true,
            mount.join(format!("{top}.slice/{top}-x.slice/pre-name.scope")),
            mount.join(format!("{top}.slice")),
        ),
        (Some(format!("/{top}-keep/c")), false, keep.0.join("c"), keep.0.join("c")),
    ];
    for (path, systemd, want, made) in cases {
        let b = Bundle::sh("sleep 100");
        if let Some(p) = &path {
            b.edit(|c| c["linux"]["cgroupsPath"] = json!(p));
        }
        let id = unique("path");
        let rtx = if systemd {
            Runtime::with(&["--policy", "unconfined", "--systemd-cgroup"])
        } else {
            Runtime::unconfined()
        };
        rtx.create(&id, &b, &[]).ok();
        assert_eq!(cgroup_of(&rtx, &id), want, "{path:?}");
        rtx.cmd(&["delete", "--force", &id]).ok();
        assert!(!want.exists(), "{} left behind", want.display());
        assert!(!made.exists(), "{} (made by scutum) left behind", made.display());
    }
    assert!(keep.0.exists(), "a parent scutum did not make was removed");
}

/// A cgroup the test makes itself (a parent that is not scutum's), removed on drop.
struct TestCgroup(PathBuf);

impl TestCgroup {
    fn make(p: PathBuf) -> TestCgroup {
        std::fs::create_dir(&p).unwrap();
        TestCgroup(p)
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(self.0.join("c"));
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn the_default_cgroup_and_its_parent_go_with_the_container() {
    let Some(mount) = v2("the_default_cgroup") else { return };
    let rt = Runtime::unconfined();
    let b = Bundle::sh("sleep 100");
    let id = unique("dflt");
    start(&rt, &id, &b);
    let cg = cgroup_of(&rt, &id);
    assert_eq!(cg.file_name().unwrap(), id.as_str());
    assert_eq!(cg.parent().unwrap().file_name().unwrap(), "scutum");
    assert!(cg.starts_with(&mount));
    rt.cmd(&["delete", "--force", &id]).ok();
    assert!(!cg.exists());
}

#[test]
fn config_errors_are_refused_before_anything_exists() {
    let rt = Runtime::unconfined();
    let cases = [
        (json!({"pids": {"limit": 0}}), "linux.resources.pids.limit: 0 is ambiguous"),
        (json!({"unified": {"foo.bar": "1"}}), "linux.resources.unified.foo.bar: unknown controller \"foo\""),
        (json!({"unified": {"cgroup.procs": "1"}}), "linux.resources.unified.cgroup.procs: only"),
        (json!({"memory": {"disableOOMKiller": true}}), "linux.resources.memory.disableOOMKiller"),
        (json!({"cpu": {"realtimeRuntime": 1000}}), "linux.resources.cpu.realtimeRuntime"),
        (json!({"devices": [{"allow": true, "access": "x"}]}), "linux.resources.devices[0].access"),
    ];
    for (res, want) in cases {
        let b = Bundle::sh("true");
        b.edit(|c| c["linux"]["resources"] = res.clone());
        let id = unique("cfg");
        rt.create(&id, &b, &[]).fails_with(want);
        assert!(rt.ids().is_empty());
    }
    let b = Bundle::sh("true");
    b.edit(|c| c["linux"]["cgroupsPath"] = json!("/a/../../b"));
    rt.create(&unique("cfg"), &b, &[]).fails_with("linux.cgroupsPath: /a/../../b must not contain '..'");
    assert!(rt.ids().is_empty());
}

#[test]
fn device_filter_is_enforced_on_the_v2_hierarchy() {
    let Some(_) = v2("device_filter_is_enforced_on_the_v2_hierarchy") else { return };
    let rt = Runtime::unconfined();
    // /dev/net/tun: opening it needs no capability, so only the filter can refuse it.
    let report = device_filter_report(&rt, &unique("dev"), ("c", 10, 200));
    assert_device_filter(&report);
}

#[test]
fn features_report_cgroup_v2() {
    let r = Runtime::new().cmd(&["features"]).ok();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["linux"]["cgroup"]["v2"], true);
    assert_eq!(v["linux"]["cgroup"]["v1"], false);
}
