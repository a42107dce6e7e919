//! `exec`: a new process in a running container, with runc's flags, the container's
//! namespaces and the container's restrictions.

mod common;
use common::*;
use serde_json::json;

/// A running container (default policy) that sleeps; deleted when the runtime drops.
fn running(rt: &Runtime) -> (String, Bundle) {
    let b = Bundle::sh("sleep 1000");
    let id = unique("exec");
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    (id, b)
}

#[test]
fn exec_runs_in_the_container_and_returns_its_status() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    let init_pid = rt.state(&id)["pid"].as_i64().unwrap();
    let r = rt.cmd(&["exec", &id, "sh", "-c", "echo out; echo err >&2; cat /proc/1/cmdline | tr '\\0' ' '; echo; readlink /proc/self/ns/pid; exit 7"]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "out");
    assert_eq!(lines[1].trim(), "sleep 1000", "pid 1 of the exec'd process must be the container's init");
    let init_ns = std::fs::read_link(format!("/proc/{init_pid}/ns/pid")).unwrap();
    assert_eq!(lines[2], init_ns.to_str().unwrap());
    assert!(r.stderr.contains("err"));
}

#[test]
fn exec_flags_env_cwd_user_groups() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    let r = rt
        .cmd(&[
            "exec",
            "-e",
            "FOO=bar",
            "--cwd",
            "/tmp",
            "-u",
            "1000:1001",
            "-g",
            "5",
            &id,
            "sh",
            "-c",
            "echo $FOO; pwd; id -u; id -g; id -G",
        ])
        .ok();
    assert_eq!(r.stdout, "bar\n/tmp\n1000\n1001\n1001 5\n");
}

#[test]
fn exec_gets_the_container_restrictions() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    let r = rt
        .cmd(&[
            "exec",
            &id,
            "sh",
            "-c",
            "grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status; cat /proc/self/uid_map; touch /x 2>&1 || true",
        ])
        .ok();
    assert!(r.stdout.contains("NoNewPrivs:\t1"), "{}", r.stdout);
    assert!(r.stdout.contains("Read-only file system"));
    let bnd = r
        .stdout
        .lines()
        .find(|l| l.starts_with("CapBnd"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(u64::from_str_radix(&bnd, 16).unwrap() & (1 << 21), 0, "CAP_SYS_ADMIN in the bounding set");
    let map: Vec<&str> = r.stdout.lines().nth(2).unwrap().split_whitespace().collect();
    assert_ne!(map[1], "0", "exec'd root is host root");
}

#[test]
fn exec_cap_sys_admin_is_refused_by_the_policy() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    rt.cmd(&["exec", "--cap", "SYS_ADMIN", &id, "true"]).fails_with("SCU-CAP-001");
    // An allowed one passes through to the process.
    let r = rt
        .cmd(&["exec", "--cap", "CAP_CHOWN", "-u", "1000", &id, "grep", "CapAmb", "/proc/self/status"])
        .ok();
    assert!(r.stdout.contains("0000000000000001"), "{}", r.stdout);
}

#[test]
fn exec_with_a_process_file() {
    let rt = Runtime::new();
    let (id, b) = running(&rt);
    let p = b.path().join("process.json");
    let process = json!({"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo $GREETING from $(pwd)"],
        "env": ["PATH=/bin", "GREETING=hello"], "cwd": "/dev", "noNewPrivileges": true});
    std::fs::write(&p, process.to_string()).unwrap();
    let r = rt.cmd(&["exec", "--process", p.to_str().unwrap(), &id]).ok();
    assert_eq!(r.stdout, "hello from /dev\n");
    std::fs::write(&p, r#"{"user":{"uid":"x"},"args":["true"],"cwd":"/"}"#).unwrap();
    rt.cmd(&["exec", "--process", p.to_str().unwrap(), &id]).fails_with("user.uid");
}

#[test]
fn exec_detached_writes_the_pid_file() {
    let rt = Runtime::new();
    let (id, b) = running(&rt);
    let pf = b.path().join("exec.pid");
    rt.cmd_detached(&["exec", "-d", "--pid-file", pf.to_str().unwrap(), &id, "sleep", "30"]).ok();
    let pid: i32 = std::fs::read_to_string(&pf).unwrap().parse().unwrap();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(cmdline, "sleep\x0030\x00");
    let init_pid = rt.state(&id)["pid"].as_i64().unwrap();
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/ns/mnt")).unwrap(),
        std::fs::read_link(format!("/proc/{init_pid}/ns/mnt")).unwrap()
    );
}

#[test]
fn exec_leaks_no_fd_and_passes_preserved_ones() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    let r = rt.cmd(&["exec", &id, "sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"]).ok();
    assert_eq!(r.stdout, "0 1 2 3 ", "only stdio (and ls's own directory fd)");
    let script = format!(
        "exec 3</etc/hostname; exec '{}' --root '{}' exec --preserve-fds 1 '{id}' sh -c 'cat <&3 >/dev/null && echo fd3-open'",
        scutum(),
        rt.root.path().display()
    );
    let out = std::process::Command::new("/bin/sh").arg("-c").arg(script).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "fd3-open\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exec_allocates_a_terminal() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    let r = rt.cmd(&["exec", "-t", &id, "sh", "-c", "tty; exit 4"]);
    assert_eq!(r.code, 4);
    assert!(r.stdout.contains("/dev/pts/"), "{}", r.stdout);
}

#[test]
fn exec_into_a_stopped_container_says_not_running() {
    let rt = Runtime::new();
    let b = Bundle::sh("true");
    let id = unique("stopped");
    rt.cmd(&["run", "--keep", "--bundle", b.path().to_str().unwrap(), &id]).ok();
    rt.cmd(&["exec", &id, "true"]).fails_with("not running");
    rt.cmd(&["exec", &unique("nope"), "true"]).fails_with("does not exist");
}

#[test]
fn exec_errors_name_the_cause() {
    let rt = Runtime::new();
    let (id, _b) = running(&rt);
    rt.cmd(&["exec", &id, "no-such-program"]).fails_with("executable file not found in $PATH");
    rt.cmd(&["exec", &id]).fails_with("no command given");
    rt.cmd(&["exec", "--apparmor", "x", &id, "true"]).fails_with("not supported");
    rt.cmd(&["exec", "--cwd", "/proc/self/fd", &id, "true"]).fails_with("SCU-PROC-002");
}
