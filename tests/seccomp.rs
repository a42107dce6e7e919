//! Seccomp: the default profile in a real container, custom profiles (errnoRet, argument
//! conditions, KILL_PROCESS, denylists), the guard for syscalls newer than the profile, and
//! malformed profiles. Run as root on the host. Syscalls busybox cannot make are made by a
//! small static probe (tests/probes/seccomp_probe.c) built here with `gcc -static`.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The probe, compiled once per test run.
fn probe_binary() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile_probe("seccomp_probe.c", "seccomp-probe", &["-pthread"]))
}

fn default_profile() -> Value {
    serde_json::to_value(scutum::seccomp::default_profile()).unwrap()
}

/// A bundle running `script`, with a writable rootfs, the probe at /bin/seccomp-probe, extra
/// busybox applets, and `profile` as linux.seccomp (none when `None`).
fn bundle(script: &str, profile: Option<Value>) -> Bundle {
    let b = Bundle::sh(script);
    std::fs::copy(probe_binary(), b.rootfs().join("bin/seccomp-probe")).unwrap();
    for applet in ["httpd", "ip", "ln"] {
        let _ = std::os::unix::fs::symlink("busybox", b.rootfs().join("bin").join(applet));
    }
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        if let Some(p) = profile {
            c["linux"]["seccomp"] = p;
        }
    });
    b
}

/// Adds capabilities to the bounding, effective and permitted sets.
fn add_caps(b: &Bundle, caps: &[&str]) {
    b.edit(|c| {
        for set in ["bounding", "effective", "permitted"] {
            let list = c["process"]["capabilities"][set].as_array_mut().unwrap();
            list.extend(caps.iter().map(|s| json!(s)));
        }
    });
}

/// Runs the container and parses its "name: result" lines.
fn results(rt: &Runtime, b: &Bundle) -> BTreeMap<String, String> {
    let r = rt.run(&unique("sc"), b);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.stdout
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// A script that runs each probe and prints "probe args: result".
fn probe_script(probes: &[&str]) -> String {
    probes.iter().map(|p| format!("echo \"{p}: $(seccomp-probe {p})\"\n")).collect()
}

const EPERM: &str = "errno 1";
const ENOSYS: &str = "errno 38";

#[test]
fn default_profile_puts_the_container_in_seccomp_filter_mode() {
    let rt = Runtime::unconfined();
    let b = bundle("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status", Some(default_profile()));
    let r = rt.run(&unique("mode"), &b).ok();
    assert!(r.stdout.contains("Seccomp:\t2"), "{}", r.stdout);
}

#[test]
fn default_profile_denies_escape_syscalls_with_eperm_and_clone3_with_enosys() {
    let probes = [
        "unshare-user",
        "mount",
        "keyctl",
        "ptrace-attach",
        "kexec-load",
        "open-by-handle-at",
        "clone3",
        "socket 38",         // AF_ALG
        "socket 40",         // AF_VSOCK
        "personality 40000", // ADDR_NO_RANDOMIZE
    ];
    let script = probe_script(&probes);
    let rt = Runtime::unconfined();
    // The same container with and without the filter: the capabilities make sure that
    // without it, nothing but seccomp would answer EPERM.
    let caps = ["CAP_SYS_BOOT", "CAP_DAC_READ_SEARCH"];
    let filtered = bundle(&script, Some(default_profile()));
    add_caps(&filtered, &caps);
    let control = bundle(&script, None);
    add_caps(&control, &caps);
    let with = results(&rt, &filtered);
    let without = results(&rt, &control);
    for p in probes {
        let want = if p == "clone3" { ENOSYS } else { EPERM };
        assert_eq!(with.get(p).map(String::as_str), Some(want), "{p} under the default profile: {with:?}");
        // (A kernel built without kexec answers ENOSYS: still not what the filter answers.)
        let plain = without.get(p).map(String::as_str).unwrap_or("missing");
        assert!(
            plain != want && plain != "missing",
            "{p} without seccomp answered {plain}: the test proves nothing"
        );
    }
}

#[test]
fn default_profile_runs_busybox_workloads() {
    let script = r#"
        set -e
        ip link set lo up
        mkdir -p /tmp/www
        echo hello-from-httpd > /tmp/www/index.html
        httpd -p 127.0.0.1:8080 -h /tmp/www
        wget -q -O /tmp/got http://127.0.0.1:8080/index.html
        echo "wget: $(cat /tmp/got)"
        ps -o comm | grep -q '^httpd' && echo "ps: sees httpd"
        tar -cf /tmp/www.tar -C /tmp www
        tar -tf /tmp/www.tar | grep -q 'www/index.html' && echo "tar: ok"
        dd if=/dev/zero of=/tmp/zero bs=4096 count=16 2>/dev/null
        echo "dd: $(wc -c < /tmp/zero)"
        echo "ls: $(ls /bin/busybox)"
        echo "thread: $(seccomp-probe thread)"
    "#;
    let rt = Runtime::unconfined();
    let b = bundle(script, Some(default_profile()));
    add_caps(&b, &["CAP_NET_ADMIN"]);
    let got = results(&rt, &b);
    assert_eq!(got.get("wget").map(String::as_str), Some("hello-from-httpd"), "{got:?}");
    assert_eq!(got.get("ps").map(String::as_str), Some("sees httpd"), "{got:?}");
    assert_eq!(got.get("tar").map(String::as_str), Some("ok"), "{got:?}");
    assert_eq!(got.get("dd").map(String::as_str), Some("65536"), "{got:?}");
    assert_eq!(got.get("ls").map(String::as_str), Some("/bin/busybox"), "{got:?}");
    assert_eq!(got.get("thread").map(String::as_str), Some("ok"), "{got:?}");
}

#[test]
fn filter_is_installed_without_no_new_privileges() {
    let rt = Runtime::unconfined();
    let script = format!("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status\n{}", probe_script(&["keyctl"]));
    let b = bundle(&script, Some(default_profile()));
    b.edit(|c| c["process"]["noNewPrivileges"] = json!(false));
    let r = rt.run(&unique("nnp"), &b).ok();
    assert!(r.stdout.contains("NoNewPrivs:\t0"), "{}", r.stdout);
    assert!(r.stdout.contains("Seccomp:\t2"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("keyctl: {EPERM}")), "{}", r.stdout);
}

/// The default profile plus `rules` at the end.
fn default_plus(rules: Value) -> Value {
    let mut p = default_profile();
    p["syscalls"].as_array_mut().unwrap().extend(rules.as_array().unwrap().iter().cloned());
    p
}

#[test]
fn errno_ret_rule_makes_mkdir_fail_with_eacces() {
    let rt = Runtime::unconfined();
    let script = "mkdir /tmp/d || echo \"mkdir failed: $?\"; test -d /tmp/d && echo created; true";
    let profile =
        default_plus(json!([{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]));
    let r = rt.run(&unique("eacces"), &bundle(script, Some(profile))).ok();
    assert!(r.stderr.contains("Permission denied"), "stderr: {}", r.stderr);
    assert!(r.stdout.contains("mkdir failed") && !r.stdout.contains("created"), "stdout: {}", r.stdout);
    // Without the rule the same script creates the directory.
    let r = rt.run(&unique("eacces"), &bundle(script, Some(default_profile()))).ok();
    assert!(r.stdout.contains("created"), "stdout: {} stderr: {}", r.stdout, r.stderr);
}

#[test]
fn argument_condition_allows_personality_0_and_denies_0x8() {
    let mut profile = default_profile();
    let rules = profile["syscalls"].as_array_mut().unwrap();
    rules.retain(|r| r["names"] != json!(["personality"]));
    rules.push(json!({"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}));
    let script = probe_script(&["personality 0", "personality 8"]);
    let rt = Runtime::unconfined();
    let with = results(&rt, &bundle(&script, Some(profile)));
    assert_eq!(with.get("personality 0").map(String::as_str), Some("ok"), "{with:?}");
    assert_eq!(with.get("personality 8").map(String::as_str), Some(EPERM), "{with:?}");
    let without = results(&rt, &bundle(&script, None));
    assert_eq!(without.get("personality 8").map(String::as_str), Some("ok"), "{without:?}");
}

#[test]
fn kill_process_rule_ends_the_container_with_sigsys() {
    let rt = Runtime::unconfined();
    let profile = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]});
    let b = bundle("", Some(profile));
    b.args(&["/bin/mkdir", "/tmp/k"]);
    let r = rt.run(&unique("sigsys"), &b);
    assert_eq!(r.code, 128 + libc::SIGSYS, "stdout: {} stderr: {}", r.stdout, r.stderr);
    assert!(!b.rootfs().join("tmp/k").exists());
    // The same program without the rule succeeds.
    let b = bundle("", None);
    b.args(&["/bin/mkdir", "/tmp/k"]);
    rt.run(&unique("sigsys"), &b).ok();
}

#[test]
fn denylist_profile_denies_only_its_rule() {
    let rt = Runtime::unconfined();
    let profile = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO"}]});
    let script = format!(
        "ln -s target /tmp/link || echo 'ln: failed'\nmkdir /tmp/dir && echo 'mkdir: ok'\n{}",
        probe_script(&["keyctl"])
    );
    let r = rt.run(&unique("deny"), &bundle(&script, Some(profile))).ok();
    assert!(r.stdout.contains("ln: failed"), "stdout: {}", r.stdout);
    assert!(r.stderr.contains("Operation not permitted"), "stderr: {}", r.stderr);
    assert!(r.stdout.contains("mkdir: ok"), "stdout: {}", r.stdout);
    // Everything else is allowed, even what the default profile denies.
    assert!(r.stdout.contains("keyctl: ok"), "stdout: {}", r.stdout);
}

#[test]
fn syscalls_newer_than_the_profile_fail_with_enosys() {
    // Generic numbers, the same on x86_64 and aarch64: futex_waitv 449 (named by the default
    // profile), process_mrelease 448 (not named), fchmodat2 452 (named).
    let mut older = default_profile();
    let newer = [
        "cachestat",
        "fchmodat2",
        "map_shadow_stack",
        "futex_wake",
        "futex_wait",
        "futex_requeue",
        "mseal",
        "setxattrat",
        "getxattrat",
        "listxattrat",
        "removexattrat",
        "file_getattr",
        "file_setattr",
        "lsm_get_self_attr",
        "lsm_list_modules",
    ];
    for r in older["syscalls"].as_array_mut().unwrap() {
        r["names"].as_array_mut().unwrap().retain(|n| !newer.contains(&n.as_str().unwrap()));
    }
    let script = probe_script(&["syscall 448", "syscall 452"]);
    let rt = Runtime::unconfined();
    let with = results(&rt, &bundle(&script, Some(older)));
    assert_eq!(with.get("syscall 448").map(String::as_str), Some(EPERM), "{with:?}");
    assert_eq!(with.get("syscall 452").map(String::as_str), Some(ENOSYS), "{with:?}");
    // The kernel has fchmodat2: without the guard it answers something else.
    let plain = results(&rt, &bundle(&script, Some(default_profile())));
    let answer = plain.get("syscall 452").map(String::as_str).unwrap_or("missing");
    assert!(answer != ENOSYS && answer != EPERM, "fchmodat2 under the full profile: {answer}");
}

fn assert_refused(profile: Value, field: &str) {
    let rt = Runtime::unconfined();
    let b = bundle("true", Some(profile));
    let before = host_snapshot();
    rt.create(&unique("bad"), &b, &[]).fails_with(field);
    assert!(rt.ids().is_empty(), "a refused create left state behind: {:?}", rt.ids());
    assert_eq!(host_snapshot(), before, "a refused create changed the host's mounts");
    assert!(processes_with(b.path().to_str().unwrap()).is_empty());
}

#[test]
fn malformed_profiles_fail_naming_the_field_and_leave_nothing_behind() {
    let rule = |r: Value| default_plus(json!([r]));
    let n = default_profile()["syscalls"].as_array().unwrap().len();
    assert_refused(
        rule(json!({"names": ["read"], "action": "FOO"})),
        &format!("linux.seccomp.syscalls[{n}].action"),
    );
    assert_refused(
        rule(
            json!({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_FOO"}]}),
        ),
        &format!("linux.seccomp.syscalls[{n}].args[0].op"),
    );
    assert_refused(
        rule(
            json!({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}),
        ),
        &format!("linux.seccomp.syscalls[{n}].args[0].index: 6 is out of range"),
    );
    assert_refused(
        rule(json!({"names": ["read"], "action": "SCMP_ACT_NOTIFY"})),
        &format!("linux.seccomp.syscalls[{n}].action: SCMP_ACT_NOTIFY is not supported yet"),
    );
}

#[test]
fn features_reports_seccomp_support() {
    let out = Command::new(scutum()).arg("features").output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["linux"]["seccomp"];
    assert_eq!(s["enabled"], true);
    for a in ["SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_LOG"] {
        assert!(s["actions"].as_array().unwrap().contains(&json!(a)), "{s}");
    }
    assert!(!s["actions"].as_array().unwrap().contains(&json!("SCMP_ACT_NOTIFY")), "{s}");
    assert!(s["operators"].as_array().unwrap().contains(&json!("SCMP_CMP_MASKED_EQ")), "{s}");
    assert_eq!(s["archs"].as_array().unwrap().len(), 1, "{s}");
}
