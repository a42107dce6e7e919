//! Attacks on the runtime itself while it works on a container: CVE-2019-5736 (overwrite the
//! runtime binary through /proc/<pid>/exe), CVE-2016-9962 (ptrace a joining exec),
//! CVE-2024-21626 (host fds and cwd), CVE-2021-30465 (a container racing another's mounts),
//! CVE-2025-52565 (/dev/console), CVE-2025-52881 (procfs writes).

use super::{probe_bundle, RuntimeCopy};
use crate::common::*;
use serde_json::json;
use std::process::Stdio;

/// A container (under `flags`) whose init runs `probe_args` in the background while sleeping,
/// writing the verdict to /shared/out; plus the runtime used to drive it.
fn watched(rt: &Runtime, probe_args: &str, extra: impl FnOnce(&Bundle)) -> (String, Bundle, TempDir) {
    let shared = TempDir::new("shared");
    std::fs::set_permissions(shared.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let b = probe_bundle(&format!("escape-probe {probe_args} > /shared/out 2>&1 & sleep 100"));
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/shared", "type": "bind", "source": shared.path(), "options": ["rbind"]}),
        );
    });
    extra(&b);
    let id = unique("watched");
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    (id, b, shared)
}

fn wait_for_verdict(shared: &TempDir) -> String {
    for _ in 0..2000 {
        let out = std::fs::read_to_string(shared.path().join("out")).unwrap_or_default();
        if out.lines().any(|l| l.starts_with("blocked") || l.starts_with("escaped")) {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the probe never reported");
}

/// Containerd's default capabilities (including DAC_OVERRIDE: root that can write any file).
fn containerd_caps(b: &Bundle) {
    let caps = json!([
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE"
    ]);
    b.edit(|c| {
        c["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    });
}

fn cve_2019_5736(policy: &str) {
    let copy = RuntimeCopy::new();
    let before = copy.digest();
    let mut rt = Runtime::with(&["--policy", policy]);
    rt.binary = Some(copy.path());
    let (id, b, shared) = watched(&rt, "exe-watch 4", containerd_caps);
    // The malicious program: a script whose interpreter is /proc/self/exe, i.e. whatever
    // binary execs it, here the runtime joining the container for `exec`. Where the kernel
    // still allows it (Linux 6.1) and no user namespace protects the binary, scutum execs
    // through a sealed helper, so the loop below only ever re-runs that helper.
    std::fs::write(b.rootfs().join("evil"), "#!/proc/self/exe\n").unwrap();
    std::fs::set_permissions(b.rootfs().join("evil"), std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap();
    for _ in 0..5 {
        let _ = rt.cmd_detached(&["exec", "-d", &id, "/evil"]);
        let _ = rt.command().args(["exec", &id, "true"]).stdin(Stdio::null()).output();
    }
    let verdict = wait_for_verdict(&shared);
    rt.cmd(&["delete", "--force", &id]).ok();
    assert!(!verdict.contains("escaped"), "{policy}: {verdict}");
    assert!(copy.digest() == before, "{policy}: the runtime binary was modified");
    let live = std::fs::read_to_string("/proc/cmdline").unwrap_or_default().contains("cgroup_no_v1=all");
    if live && policy == "baseline" {
        // In the VM (Linux 6.1) the attack is live: without a user namespace, /evil loops
        // through the sealed helper, so the probe must have got hold of it and been refused
        // writing it, not merely seen nothing. (Under hardened the exec'd runtime binary lives
        // for a millisecond; the unchanged checksum is the proof there.)
        assert!(!verdict.contains("blocked errno 0"), "{policy}: the attack never ran: {verdict}");
    }
}

#[test]
fn cve_2019_5736_runtime_binary_cannot_be_overwritten_hardened() {
    cve_2019_5736("hardened");
}

#[test]
fn cve_2019_5736_runtime_binary_cannot_be_overwritten_baseline() {
    // No user namespace: container root is host root with DAC_OVERRIDE.
    cve_2019_5736("baseline");
}

#[test]
fn cve_2016_9962_a_joining_exec_cannot_be_ptraced() {
    // Baseline: no seccomp filter to hide behind; only the runtime being non-dumpable until it
    // execs stands between the container's root and a ptrace of the runtime.
    let rt = Runtime::with(&["--policy", "baseline"]);
    let (id, _b, shared) = watched(&rt, "ptrace-watch 3", |_| {});
    for _ in 0..20 {
        rt.cmd(&["exec", &id, "true"]).ok();
    }
    let verdict = wait_for_verdict(&shared);
    assert!(verdict.contains("blocked"), "{verdict}");
}

#[test]
fn cve_2024_21626_no_host_fd_or_cwd_reaches_the_container_or_exec() {
    let rt = Runtime::new();
    let b = Bundle::sh("ls -l /proc/self/fd/ | grep -c ' -> ' ; readlink /proc/self/cwd; sleep 100");
    let id = unique("fds");
    rt.create(&id, &b, &[]).ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    // While created (blocked on the exec fifo), the init holds no host directory (the exec
    // fifo, an O_PATH handle on a fifo, is the one host file it keeps until start; 0, 1 and 2
    // are the caller's stdio, handed over on purpose).
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().filter_map(|e| e.ok()) {
        if e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()).is_some_and(|n| n < 3) {
            continue;
        }
        let target = std::fs::read_link(e.path()).unwrap_or_default();
        let t = target.to_string_lossy();
        let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
        let host_path = t.starts_with("/tmp") || t.starts_with("/work") || t.starts_with("/run");
        assert!(!(is_dir && host_path), "the init holds the host directory {t}");
        assert!(!host_path || t.ends_with("/exec.fifo"), "the init holds {t}");
    }
    rt.cmd(&["start", &id]).ok();
    rt.cmd(&["exec", "--cwd", "/proc/self/fd/0", &id, "true"]).fails_with("SCU-PROC-002");
    let r = Runtime::unconfined();
    let b = Bundle::sh("sleep 100");
    let id2 = unique("fds2");
    r.create(&id2, &b, &[]).ok();
    r.cmd(&["start", &id2]).ok();
    r.cmd(&["exec", "--cwd", "/proc/self/fd/0", &id2, "true"]).fails_with("magic link");
    let out =
        r.cmd(&["exec", &id2, "sh", "-c", "ls /proc/self/fd | wc -l; readlink /proc/self/cwd"]).ok().stdout;
    assert_eq!(out, "4\n/\n", "exec leaked an fd or a host cwd");
}

#[test]
fn cve_2021_30465_a_container_racing_another_containers_mounts() {
    // Container A shares a volume with B and swaps a directory in it for a symlink to / in a
    // loop; B is created again and again with a mount inside that volume. A createContainer
    // hook records B's mount table before pivot_root: nothing may land outside B's rootfs.
    let vol = TempDir::new("sharedvol");
    std::fs::set_permissions(vol.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::fs::create_dir(vol.path().join("d")).unwrap();
    std::fs::set_permissions(vol.path().join("d"), std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .unwrap();
    let rt = Runtime::unconfined();
    let a = Bundle::sh("while true; do mv /vol/d /vol/x; ln -s / /vol/d; rm /vol/d; mv /vol/x /vol/d; done");
    a.edit(|c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/vol", "type": "bind", "source": vol.path(), "options": ["rbind"]}))
    });
    let aid = unique("racer");
    rt.create(&aid, &a, &[]).ok();
    rt.cmd(&["start", &aid]).ok();
    let dump = TempDir::new("dump");
    let dump_file = dump.path().join("mountinfo");
    let b = Bundle::sh("true");
    b.edit(|c| {
        let m = c["mounts"].as_array_mut().unwrap();
        m.push(json!({"destination": "/data", "type": "bind", "source": vol.path(), "options": ["rbind"]}));
        m.push(json!({"destination": "/data/d", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
        c["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", format!("cat /proc/self/mountinfo > {}", dump_file.display())]}]});
    });
    let host: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| l.split(' ').nth(4).unwrap().to_string())
        .collect();
    let before = host_snapshot();
    for _ in 0..20 {
        let _ = std::fs::remove_file(&dump_file);
        let id = unique("victim");
        if rt.create(&id, &b, &[]).code == 0 {
            for line in std::fs::read_to_string(&dump_file).unwrap().lines() {
                let point = line.split(' ').nth(4).unwrap();
                let inside = std::path::Path::new(point).starts_with(b.rootfs());
                assert!(inside || host.iter().any(|h| h == point), "B mounted outside its rootfs: {line}");
            }
            rt.cmd(&["delete", "--force", &id]).ok();
        }
    }
    rt.cmd(&["delete", "--force", &aid]).ok();
    assert_eq!(host_snapshot(), before);
}

#[test]
fn cve_2025_52565_dev_console_is_the_containers_own_pty() {
    // The image plants /dev/console as a symlink to a host file; scutum's fresh /dev ignores it
    // and binds the pty it allocated (from the container's own devpts) to /dev/console.
    let rt = Runtime::unconfined();
    let b = Bundle::sh("stat -c '%t:%T' /dev/console; stat -L -c '%t:%T' /proc/self/fd/0");
    b.edit(|c| c["process"]["terminal"] = json!(true));
    let _ = std::fs::remove_file(b.rootfs().join("dev/console"));
    std::os::unix::fs::symlink("/etc/shadow", b.rootfs().join("dev/console")).unwrap();
    let r = rt.run(&unique("console"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().map(|l| l.trim()).collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert_eq!(lines[0], lines[1], "/dev/console is not the container's pty");
    assert!(lines[0].starts_with("88:"), "not a devpts node: {}", lines[0]);
}

#[test]
fn cve_2025_52881_sysctl_writes_reach_the_kernel_not_a_mount() {
    // sysctls are written through a private procfs instance verified with fstatfs; a config
    // that mounts over /proc/sys to catch them is refused outright.
    let rt = Runtime::unconfined();
    let b = Bundle::sh("cat /proc/sys/net/ipv4/ip_forward");
    b.edit(|c| c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"}));
    let r = rt.run(&unique("sysctl"), &b);
    assert_eq!((r.code, r.stdout.as_str()), (0, "1\n"), "{}", r.stderr);
    let decoy = TempDir::new("decoy");
    std::fs::create_dir_all(decoy.path().join("net/ipv4")).unwrap();
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/proc/sys", "type": "bind", "source": decoy.path(), "options": ["rbind"]}),
        )
    });
    rt.create(&unique("decoy"), &b, &[]).fails_with("not allowed");
}
