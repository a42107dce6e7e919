//! Faults: the runtime SIGKILLed at each stage of create, a full state file system, a corrupt
//! state.json. After each, `delete --force` leaves nothing (no process, cgroup, mount, state
//! dir, uid range) and the same id can be created again. The SIGKILL is delivered by strace's
//! syscall fault injection at a chosen syscall of the create, a real kill at a real point.

mod common;
use common::cgroup::{v2_mount, wait_for};
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where the container's cgroup would be (the default cgroupsPath: scutum/<id>).
fn cgroup_dir(id: &str) -> Option<std::path::PathBuf> {
    v2_mount().map(|m| m.join("scutum").join(id))
}

fn uid_slots_of(rt: &Runtime, id: &str) -> usize {
    std::fs::read_dir(rt.root.path().join("@uidpool"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|o| o == id))
                .count()
        })
        .unwrap_or(0)
}

/// Everything of container `id` is gone.
#[track_caller]
fn assert_clean(rt: &Runtime, id: &str, mounts: &HostSnapshot) {
    assert!(!rt.root.path().join(id).exists(), "state dir left");
    assert!(processes_with(id).is_empty(), "a process left");
    if let Some(cg) = cgroup_dir(id) {
        assert!(!cg.exists(), "cgroup {} left", cg.display());
    }
    assert_eq!(uid_slots_of(rt, id), 0, "uid range left");
    assert_eq!(&host_snapshot(), mounts, "mounts left");
}

/// Runs `create` under strace, killed with SIGKILL by the fault injection `inject`.
fn create_killed(rt: &Runtime, id: &str, b: &Bundle, strace_args: &[&str]) {
    let pid_file = b.path().join("pid");
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-o", "/dev/null"]).args(strace_args);
    let inner = rt.command();
    cmd.arg(inner.get_program()).args(inner.get_args());
    cmd.args([
        "create",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--bundle",
        b.path().to_str().unwrap(),
        id,
    ]);
    let st = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(!st.success(), "create was not killed ({strace_args:?})");
    let written = std::fs::read_to_string(&pid_file).unwrap_or_default();
    assert!(written.is_empty(), "a pid file was published although create was killed before it");
}

fn killed_at(stage: &str, strace_args: &[&str]) {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let mounts = host_snapshot();
    let id = unique(stage);
    create_killed(&rt, &id, &b, strace_args);
    rt.cmd(&["delete", "--force", &id]).ok();
    assert_clean(&rt, &id, &mounts);
    // The id is free again and works.
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    rt.cmd(&["delete", "--force", &id]).ok();
    assert_clean(&rt, &id, &mounts);
}

#[test]
fn killed_after_the_state_dir() {
    // The first flock is the lock on the fresh state dir: nothing else exists yet.
    killed_at("after-dir", &["-e", "trace=flock", "-e", "inject=flock:signal=KILL:when=1"]);
}

#[test]
fn killed_after_the_cgroup() {
    // clone3 is the clone of the init: the cgroup (and uid range) exist, the init does not.
    killed_at("after-cgroup", &["-e", "trace=clone3", "-e", "inject=clone3:signal=KILL:when=1"]);
}

#[test]
fn killed_after_clone() {
    // The first sendmsg tells the freshly cloned init to go on: it exists, half set up.
    killed_at("after-clone", &["-e", "trace=sendmsg", "-e", "inject=sendmsg:signal=KILL:when=1"]);
}

#[test]
fn killed_before_the_pid_file() {
    // The rename that would publish the pid file. Which rename of the create that is, is
    // learnt from a traced create of the same config first.
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let mounts = host_snapshot();
    let pf = b.path().join("pid");
    let trace = b.path().join("trace");
    let probe = unique("count");
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-o", trace.to_str().unwrap(), "-e", "trace=rename"]);
    let inner = rt.command();
    cmd.arg(inner.get_program()).args(inner.get_args());
    cmd.args(["create", "--pid-file", pf.to_str().unwrap(), "--bundle", b.path().to_str().unwrap(), &probe]);
    assert!(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap().success());
    rt.cmd(&["delete", "--force", &probe]).ok();
    std::fs::remove_file(&pf).unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    let target = format!(", \"{}\")", pf.display());
    let nth =
        text.lines().filter(|l| l.starts_with("rename(")).position(|l| l.contains(&target)).unwrap() + 1;

    let id = unique("before-pidfile");
    create_killed(
        &rt,
        &id,
        &b,
        &["-e", "trace=rename", "-e", &format!("inject=rename:signal=KILL:when={nth}")],
    );
    rt.cmd(&["delete", "--force", &id]).ok();
    assert_clean(&rt, &id, &mounts);
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["delete", "--force", &id]).ok();
    assert_clean(&rt, &id, &mounts);
}

#[test]
fn a_full_state_file_system_fails_clearly_and_leaves_nothing() {
    let b = Bundle::sh("true");
    let work = TempDir::new("fullroot");
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let id = unique("full");
    // A 64 KiB tmpfs as --root, nearly filled, in a private mount namespace (the host's mount
    // table, which other tests compare, never sees it).
    // The filler leaves less room than one container's state (its effective config alone,
    // with the default seccomp profile, is tens of KiB); create's stdio goes to files so a
    // container that did start could never hold our pipes.
    let err = work.path().join("stderr");
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs '{root}' && head -c 57000 /dev/zero > '{root}/filler' && \
         '{bin}' --root '{root}' --log '{log}' create --bundle '{bundle}' '{id}' </dev/null >/dev/null 2>'{err}'; rc=$?; \
         ls -A '{root}' | grep -v -x -e filler -e audit.log -e '@uidpool' | tr '\\n' ' '; \
         '{bin}' --root '{root}' delete --force '{id}' >/dev/null 2>&1; exit $rc",
        root = root.display(),
        bin = scutum(),
        bundle = b.path().display(),
        err = err.display(),
        log = work.path().join("log").display(),
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "",
        "something was left half-written in the root"
    );
    assert!(processes_with(&id).is_empty());
}

#[test]
fn a_corrupt_state_json_is_a_clear_error_and_delete_force_still_cleans_up() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let mounts = host_snapshot();
    let id = unique("corrupt");
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap() as i32;
    std::fs::write(rt.root.path().join(&id).join("state.json"), "{\"ociVersion\": garbage").unwrap();
    rt.cmd(&["state", &id]).fails_with("corrupt state file");
    rt.cmd(&["delete", &id]).fails_with("corrupt state file");
    rt.cmd(&["delete", "--force", &id]).ok();
    wait_for("the container's init to be killed", 5, || is_gone(pid).then_some(()));
    assert_clean(&rt, &id, &mounts);
    assert!(Path::new("/proc/self").exists());
}

/// A FIFO or a device in place of state.json (only root can put one in the 0700 state dir, but
/// a runtime that hangs or reads forever would take every containerd call with it): `state`
/// fails at once with a clear error, and `delete --force` still cleans up.
#[test]
fn a_fifo_or_device_as_state_json_is_an_error_not_a_hang() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let mounts = host_snapshot();
    for (i, plant) in ["fifo", "/dev/zero"].into_iter().enumerate() {
        let id = unique(&format!("fifostate{i}"));
        rt.create(&id, &b, &[]).ok();
        rt.cmd(&["start", &id]).ok();
        let pid = rt.state(&id)["pid"].as_i64().unwrap() as i32;
        let state = rt.root.path().join(&id).join("state.json");
        std::fs::remove_file(&state).unwrap();
        if plant == "fifo" {
            assert!(Command::new("mkfifo").arg(&state).status().unwrap().success());
        } else {
            std::os::unix::fs::symlink(plant, &state).unwrap();
        }
        rt.cmd_within_deadline(&["state", &id]).fails_with("corrupt state file");
        rt.cmd_within_deadline(&["list"]).ok();
        rt.cmd_within_deadline(&["delete", "--force", &id]).ok();
        wait_for(&format!("{plant}: the container's init to be killed"), 5, || is_gone(pid).then_some(()));
        assert_clean(&rt, &id, &mounts);
    }
}
