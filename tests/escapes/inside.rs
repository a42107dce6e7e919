//! From inside a default (hardened) container, every classic escape syscall or write fails:
//! Shocker, mount, module loading, keyctl, bpf, perf_event_open, setns, /proc/sys, /sys,
//! /proc/sysrq-trigger, block devices, rlimits, /proc/kcore, CVE-2022-0492.

use super::{probe_bundle, verdicts};
use crate::common::*;
use serde_json::json;

const ATTACKS: &[(&str, &str)] = &[
    ("shocker", "shocker"),
    ("mount", "mount"),
    ("module", "module"),
    ("keyctl", "keyctl"),
    ("bpf", "bpf"),
    ("perf_event_open", "perf"),
    ("setns to /proc/1/ns/*", "setns-host"),
    ("/proc/sys write", "write /proc/sys/kernel/core_pattern"),
    ("/proc/sys/net write of the host", "write /proc/sys/vm/drop_caches"),
    ("/sys write", "write /sys/power/state"),
    ("/proc/sysrq-trigger", "write /proc/sysrq-trigger"),
    ("block device", "mknod-block"),
    ("raise rlimit", "raise-rlimit"),
    ("/proc/kcore", "read /proc/kcore"),
    ("/proc/keys", "read /proc/keys"),
    ("CVE-2022-0492 release_agent", "cgroup-release-agent"),
];

fn script() -> String {
    ATTACKS.iter().map(|(name, args)| format!("echo \"{name}: $(escape-probe {args})\"\n")).collect()
}

#[test]
fn every_escape_from_inside_a_default_container_fails() {
    let b = probe_bundle(&script());
    let r = Runtime::new().run(&unique("inside"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verdicts(&r.stdout);
    assert_eq!(v.len(), ATTACKS.len(), "some probes did not report: {}", r.stdout);
    for (name, verdict) in v {
        assert!(verdict.starts_with("blocked"), "{name}: {verdict}");
    }
}

#[test]
fn the_probe_detects_an_escape_when_nothing_stops_it() {
    // Control: with CAP_SYS_ADMIN and no seccomp (unconfined), the same probe reports mount
    // and keyctl as escapes, so the test above can fail.
    let b = probe_bundle("echo \"mount: $(escape-probe mount)\"; echo \"keyctl: $(escape-probe keyctl)\"");
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_SYS_ADMIN"));
        }
    });
    let r = Runtime::unconfined().run(&unique("control"), &b);
    let v = verdicts(&r.stdout);
    assert!(v.iter().any(|(n, x)| n == "mount" && x.starts_with("escaped")), "{}", r.stdout);
}
