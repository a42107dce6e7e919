//! The runc-compatible lifecycle: run/create/start/state/kill/delete/list, exit statuses, pid
//! files, ids and malformed configs. Run as root on the host.

mod common;
use common::*;
use serde_json::json;

#[test]
fn run_returns_the_container_exit_status_and_output() {
    let rt = Runtime::new();
    let b = Bundle::sh("echo hello; exit 7");
    let r = rt.run(&unique("run"), &b);
    assert_eq!(r.code, 7, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "hello\n");
    assert!(rt.ids().is_empty(), "run without --keep must delete the container");
}

#[test]
fn run_of_a_killed_container_exits_128_plus_signal() {
    // The init of a pid namespace cannot SIGKILL itself, so the kill comes from outside, as a
    // user would send it.
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let id = unique("kill9");
    let mut run = rt
        .command()
        .args(["run", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    rt.wait_status(&id, "running");
    rt.cmd(&["kill", &id, "KILL"]).ok();
    assert_eq!(run.wait().unwrap().code(), Some(137));
    assert!(rt.ids().is_empty());
}

#[test]
fn run_does_not_lose_a_container_that_exits_at_once() {
    let rt = Runtime::new();
    let b = Bundle::new();
    b.args(&["/bin/false"]);
    for _ in 0..5 {
        assert_eq!(rt.run(&unique("fast"), &b).code, 1);
    }
}

#[test]
fn run_keep_leaves_a_stopped_container() {
    let rt = Runtime::new();
    let b = Bundle::sh("exit 0");
    let id = unique("keep");
    rt.cmd(&["run", "--keep", "--bundle", b.path().to_str().unwrap(), &id]).ok();
    assert_eq!(rt.status(&id), "stopped");
    rt.cmd(&["delete", &id]).ok();
}

#[test]
fn create_start_stop_and_the_state_json() {
    let rt = Runtime::new();
    let b = Bundle::sh("read x < /dev/null; sleep 0.5");
    let id = unique("states");
    rt.create(&id, &b, &[]).ok();
    let s = rt.state(&id);
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], id.as_str());
    assert!(s["pid"].as_i64().unwrap() > 0);
    assert_eq!(s["bundle"], b.path().to_str().unwrap());
    assert_eq!(s["rootfs"], b.rootfs().to_str().unwrap());
    for key in ["ociVersion", "created", "owner"] {
        assert!(s.get(key).is_some(), "state lacks {key}: {s}");
    }
    rt.cmd(&["start", &id]).ok();
    assert_eq!(rt.status(&id), "running");
    rt.cmd(&["start", &id]).fails_with("created");
    rt.wait_status(&id, "stopped");
    assert_eq!(rt.state(&id)["pid"], 0);
    rt.cmd(&["delete", &id]).ok();
    rt.cmd(&["state", &id]).fails_with("does not exist");
}

#[test]
fn pid_file_holds_the_init_pid_without_newline() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 10");
    let id = unique("pidfile");
    let pf = b.path().join("init.pid");
    rt.create(&id, &b, &["--pid-file", pf.to_str().unwrap()]).ok();
    let text = std::fs::read_to_string(&pf).unwrap();
    assert!(!text.ends_with('\n'));
    assert_eq!(text.parse::<i64>().unwrap(), rt.state(&id)["pid"].as_i64().unwrap());
    rt.cmd(&["delete", "--force", &id]).ok();
}

/// A container whose init traps SIGTERM, reporting through a shared host directory (world
/// writable: under the default policy container root is an unprivileged host uid).
fn trapping_container(rt: &Runtime) -> (String, Bundle, TempDir) {
    // As pid 1 of its namespace, sh only gets signals it has a handler for.
    let b = Bundle::sh(
        "trap 'echo TERM > /shared/got; exit 3' TERM; touch /shared/ready; while true; do sleep 0.05; done",
    );
    let shared = TempDir::new("shared");
    std::fs::set_permissions(shared.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/shared", "type": "bind", "source": shared.path(), "options": ["rbind", "rw"]}),
        )
    });
    let id = unique("trap");
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    for _ in 0..500 {
        if shared.path().join("ready").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    (id, b, shared)
}

#[test]
fn kill_accepts_names_with_and_without_sig_and_numbers() {
    let rt = Runtime::new();
    for sig in ["TERM", "SIGTERM", "15", "sigterm"] {
        let (id, _b, shared) = trapping_container(&rt);
        rt.cmd(&["kill", &id, sig]).ok();
        rt.wait_status(&id, "stopped");
        assert_eq!(std::fs::read_to_string(shared.path().join("got")).unwrap(), "TERM\n", "signal {sig}");
        rt.cmd(&["delete", &id]).ok();
    }
}

#[test]
fn kill_defaults_to_sigterm_and_kill_9_stops_anything() {
    let rt = Runtime::new();
    let (id, _b, shared) = trapping_container(&rt);
    rt.cmd(&["kill", &id]).ok();
    rt.wait_status(&id, "stopped");
    assert!(shared.path().join("got").exists());
    rt.cmd(&["kill", &id, "KILL"]).fails_with("not running");
    rt.cmd(&["delete", &id]).ok();

    let b = Bundle::sh("sleep 100");
    let id = unique("k9");
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    rt.cmd(&["kill", &id, "9"]).ok();
    rt.wait_status(&id, "stopped");
    rt.cmd(&["kill", &id, "BOGUS"]).fails_with("unknown signal");
}

#[test]
fn delete_refuses_live_containers_unless_forced() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let id = unique("del");
    rt.create(&id, &b, &[]).ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    rt.cmd(&["delete", &id]).fails_with("not stopped");
    rt.cmd(&["start", &id]).ok();
    rt.cmd(&["delete", &id]).fails_with("not stopped");
    rt.cmd(&["delete", "--force", &id]).ok();
    assert!(is_gone(pid as i32), "init {pid} survived delete --force");
    assert!(rt.ids().is_empty());
    rt.cmd(&["delete", &id]).fails_with("does not exist");
}

#[test]
fn list_prints_a_table_and_json() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let (a, c) = (unique("la"), unique("lb"));
    rt.create(&a, &b, &[]).ok();
    rt.create(&c, &b, &[]).ok();
    rt.cmd(&["start", &c]).ok();
    let table = rt.cmd(&["list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("STATUS") && lines[0].contains("BUNDLE"));
    assert!(lines.iter().any(|l| l.starts_with(&a) && l.contains("created")), "{table}");
    assert!(lines.iter().any(|l| l.starts_with(&c) && l.contains("running")), "{table}");
    let v: serde_json::Value =
        serde_json::from_str(&rt.cmd(&["list", "--format", "json"]).ok().stdout).unwrap();
    let mut ids: Vec<&str> = v.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut want = vec![a.as_str(), c.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let quiet = rt.cmd(&["list", "-q"]).ok().stdout;
    assert_eq!(quiet.lines().count(), 2);
}

#[test]
fn a_second_create_of_one_id_says_already_exists() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let id = unique("dup");
    rt.create(&id, &b, &[]).ok();
    rt.create(&id, &b, &[]).fails_with("already exists");
}

#[test]
fn concurrent_creates_of_one_id_have_exactly_one_winner() {
    let rt = std::sync::Arc::new(Runtime::new());
    let b = std::sync::Arc::new(Bundle::sh("sleep 100"));
    let id = unique("race");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (rt, b, id) = (rt.clone(), b.clone(), id.clone());
            std::thread::spawn(move || rt.create(&id, &b, &[]))
        })
        .collect();
    let results: Vec<Run> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.code == 0).count(), 1);
    for r in results.iter().filter(|r| r.code != 0) {
        assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    }
}

#[test]
fn bad_ids_are_refused_before_anything_is_created() {
    let rt = Runtime::new();
    let b = Bundle::sh("true");
    for id in ["../x", "a/b", ".", "..", "a b", &"x".repeat(1025)] {
        rt.create(id, &b, &[]).fails_with("invalid container id");
    }
    assert!(rt.ids().is_empty(), "{:?}", rt.ids());
    assert!(!rt.root.path().parent().unwrap().join("x").exists());
}

/// A failed create leaves no state dir, no process and no mount behind.
#[track_caller]
fn assert_refused(b: &Bundle, words: &str) {
    let rt = Runtime::new();
    let before = host_snapshot();
    let id = unique("bad");
    rt.create(&id, b, &[]).fails_with(words);
    assert!(rt.ids().is_empty(), "state left behind: {:?}", rt.ids());
    assert_eq!(host_snapshot(), before, "mounts changed");
    assert!(processes_with(&id).is_empty(), "a process survived");
}

#[test]
fn malformed_configs_name_the_field_and_leave_nothing_behind() {
    let b = Bundle::sh("true");
    b.edit(|c| {
        c.as_object_mut().unwrap().remove("root");
    });
    assert_refused(&b, "root");

    let b = Bundle::sh("true");
    b.edit(|c| c["root"]["path"] = json!("no-such-rootfs"));
    assert_refused(&b, "root.path");

    let b = Bundle::sh("true");
    b.edit(|c| c["process"]["user"]["uid"] = json!("root"));
    assert_refused(&b, "process.user.uid");

    let b = Bundle::sh("true");
    b.edit(|c| {
        c["process"].as_object_mut().unwrap().remove("args");
    });
    assert_refused(&b, "process.args");

    let b = Bundle::sh("true");
    b.edit(|c| c["process"]["cwd"] = json!("relative/dir"));
    assert_refused(&b, "process.cwd");

    let b = Bundle::sh("true");
    b.write_raw("{ this is not json");
    assert_refused(&b, "config.json");

    let b = Bundle::sh("true");
    b.args(&["/no/such/program"]);
    assert_refused(&b, "no such file");

    let b = Bundle::sh("true");
    b.args(&["no-such-program"]);
    assert_refused(&b, "executable file not found");
}

#[test]
fn missing_bundle_and_rootfs_symlink_are_refused() {
    let rt = Runtime::new();
    rt.cmd(&["create", "--bundle", "/nonexistent/bundle", &unique("nob")]).fails_with("config.json");
    let b = Bundle::sh("true");
    std::fs::rename(b.rootfs(), b.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real", b.rootfs()).unwrap();
    assert_refused(&b, "root.path");
}

#[test]
fn a_runc_spec_bundle_runs_unmodified_but_for_args_and_terminal() {
    let b = Bundle::new();
    std::fs::remove_file(b.path().join("config.json")).unwrap();
    let out = std::process::Command::new("runc").args(["spec", "--bundle"]).arg(b.path()).output().unwrap();
    assert!(out.status.success(), "runc spec: {}", String::from_utf8_lossy(&out.stderr));
    b.edit(|c| {
        c["process"]["terminal"] = json!(false);
        c["process"]["args"] = json!(["sh", "-c", "echo runc-bundle; hostname"]);
    });
    let r = Runtime::new().run(&unique("runcspec"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "runc-bundle\nrunc\n");
}

#[test]
fn version_prints_three_lines() {
    let r = Runtime::new().cmd(&["--version"]).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("scutum version "));
    assert!(lines[1].starts_with("commit: "));
    assert!(lines[2].starts_with("spec: 1."));
}

#[test]
fn errors_go_to_the_json_log_with_level_and_time() {
    // Runtime passes --log <root>/scutum.log --log-format json on every call, as the shim does.
    let rt = Runtime::new();
    let r = rt.cmd(&["state", "nope"]);
    assert_eq!(r.code, 1);
    let last = rt.log_lines().pop().unwrap();
    assert_eq!(last["level"], "error");
    assert!(last["msg"].as_str().unwrap().contains("container nope does not exist"));
    assert!(last["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn unknown_flags_and_commands_exit_1_with_one_line() {
    let rt = Runtime::new();
    rt.cmd(&["--no-such-flag", "list"]).fails_with("no-such-flag");
    rt.cmd(&["frobnicate"]).fails_with("frobnicate");
    rt.cmd(&["delete", "--nope", "x"]).fails_with("--nope");
    rt.cmd(&["kill"]).fails_with("container-id");
}

#[test]
fn help_lists_every_command_and_each_commands_flags() {
    let rt = Runtime::new();
    let top = rt.cmd(&["--help"]).ok().stdout;
    for c in ["create", "start", "run", "state", "exec", "kill", "delete", "list", "update", "check"] {
        assert!(top.contains(&format!("\n  {c} ")), "{c} missing from --help:\n{top}");
    }
    let create = rt.cmd(&["create", "--help"]).ok().stdout;
    assert!(create.contains("--bundle <DIR>") && create.contains("--pid-file <FILE>"), "{create}");
    assert_eq!(rt.cmd(&["help", "exec"]).ok().stdout, rt.cmd(&["exec", "-h"]).ok().stdout);
}
