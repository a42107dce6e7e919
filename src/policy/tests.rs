//! Table-driven tests of every rule: a config that triggers it, and the same config with the
//! remedy applied, judged under hardened and baseline.

use super::*;
use serde_json::{json, Value};

/// A config like `scutum spec` writes (terminal off).
fn base() -> Value {
    let mut v = crate::commands::spec_default_for_tests();
    v["process"]["terminal"] = json!(false);
    v
}

fn spec_of(v: &Value) -> Spec {
    serde_json::from_value(v.clone()).unwrap()
}

fn ctx() -> Context {
    Context { rootfs: "/bundles/b1/rootfs".into(), pids_enforceable: false, ..Default::default() }
}

fn eval(v: &Value, preset: &str) -> Evaluation {
    evaluate(&spec_of(v), &Policy::preset(preset).unwrap(), &ctx())
}

fn refusals(e: &Evaluation) -> Vec<String> {
    e.findings
        .iter()
        .filter(|f| f.severity == Severity::Refuse)
        .map(|f| format!("{} {}", f.rule, f.pointer))
        .collect()
}

/// (rule, what breaks the config, what the remedy does)
type Case = (&'static str, fn(&mut Value), fn(&mut Value));

fn cases() -> Vec<Case> {
    vec![
        (
            "SCU-CAP-001",
            |v| v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]),
            |v| v["process"]["capabilities"]["bounding"] = json!(["CAP_KILL"]),
        ),
        (
            "SCU-NS-001",
            |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "pid"}]),
            |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}]),
        ),
        (
            "SCU-NS-002",
            |v| v["linux"]["namespaces"][1]["path"] = json!("/proc/self/ns/net"),
            |v| {
                v["linux"]["namespaces"][1].as_object_mut().unwrap().remove("path");
            },
        ),
        (
            "SCU-MNT-001",
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/host", "type": "bind", "source": "/", "options": ["rbind"]}),
                )
            },
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]}),
                )
            },
        ),
        (
            "SCU-MNT-001",
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/sock", "type": "bind", "source": "/run/containerd/containerd.sock", "options": ["bind"]}),
                )
            },
            |_| {},
        ),
        (
            "SCU-MNT-001",
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/pods", "type": "bind", "source": "/var/lib/kubelet/pods", "options": ["rbind"]}),
                )
            },
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/cache", "type": "bind", "source": "/var/lib/kubelet/pods/0a/volumes/kubernetes.io~empty-dir/cache", "options": ["rbind"]}),
                )
            },
        ),
        (
            "SCU-MNT-001",
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/b", "type": "bind", "source": "/bundles/b1", "options": ["rbind", "ro"]}),
                )
            },
            |_| {},
        ),
        (
            "SCU-MNT-002",
            |v| set_opts(v, "sysfs", json!(["nosuid", "noexec", "nodev"])),
            |v| set_opts(v, "sysfs", json!(["nosuid", "noexec", "nodev", "ro"])),
        ),
        ("SCU-MNT-002", |v| set_opts(v, "cgroup", json!(["nosuid", "noexec", "nodev", "relatime"])), |_| {}),
        // Later options win: `ro,rw` mounts writable (it passed when "any ro" counted).
        (
            "SCU-MNT-002",
            |v| set_opts(v, "sysfs", json!(["nosuid", "noexec", "nodev", "ro", "rw"])),
            |v| set_opts(v, "sysfs", json!(["rw", "nosuid", "noexec", "nodev", "ro"])),
        ),
        // The recursive attribute is applied last: `ro,rrw` binds the host's /usr writable.
        (
            "SCU-MNT-001",
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/hostusr", "type": "bind", "source": "/usr", "options": ["rbind", "ro", "rrw"]}),
                )
            },
            |v| {
                push_mount(
                    v,
                    json!({"destination": "/hostusr", "type": "bind", "source": "/usr", "options": ["rbind", "rrw", "rro"]}),
                )
            },
        ),
        (
            "SCU-MNT-004",
            |v| v["linux"]["rootfsPropagation"] = json!("rshared"),
            |v| v["linux"]["rootfsPropagation"] = json!("rslave"),
        ),
        (
            "SCU-MNT-005",
            |v| push_mount(v, json!({"destination": "/p2", "type": "proc", "source": "proc"})),
            |_| {},
        ),
        (
            "SCU-SYSCTL-001",
            |v| v["linux"]["sysctl"] = json!({"kernel.core_pattern": "|/x"}),
            |v| v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmax": "100000"}),
        ),
        (
            "SCU-SEC-001",
            |v| v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW"}),
            |v| v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}),
        ),
        (
            "SCU-DEV-001",
            |v| v["linux"]["resources"]["devices"] = json!([{"allow": true, "access": "rwm"}]),
            |v| v["linux"]["resources"]["devices"] = json!([{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rw"}]),
        ),
        (
            "SCU-DEV-001",
            |v| v["linux"]["devices"] = json!([{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]),
            |_| {},
        ),
        (
            "SCU-DEV-001",
            |v| {
                v["linux"]["resources"]["devices"] =
                    json!([{"allow": true, "type": "c", "major": 1, "minor": 1, "access": "r"}])
            },
            |_| {},
        ),
        (
            "SCU-PROC-001",
            |v| v["process"]["oomScoreAdj"] = json!(-500),
            |v| v["process"]["oomScoreAdj"] = json!(100),
        ),
        (
            "SCU-PROC-002",
            |v| v["process"]["cwd"] = json!("/proc/self/fd/3"),
            |v| v["process"]["cwd"] = json!("/srv"),
        ),
        (
            "SCU-PROC-002",
            |v| v["process"]["args"] = json!(["/proc/self/exe"]),
            |v| v["process"]["args"] = json!(["/bin/sh"]),
        ),
        // Spelled so that "starts with /proc" missed them; the init refused them later, so
        // `check` and `create` disagreed.
        (
            "SCU-PROC-002",
            |v| v["process"]["cwd"] = json!("/srv/../proc/self/cwd"),
            |v| v["process"]["cwd"] = json!("/srv/../procfs"),
        ),
        (
            "SCU-PROC-002",
            |v| {
                v["process"]["cwd"] = json!("/bin");
                v["process"]["args"] = json!(["../proc/self/exe"]);
            },
            |v| v["process"]["args"] = json!(["proc"]),
        ),
        (
            "SCU-ANN-001",
            |v| v["annotations"] = json!({"org.systemd.property.ExecStartPre": "x"}),
            |v| v["annotations"] = json!({"io.kubernetes.pod.name": "x"}),
        ),
    ]
}

fn push_mount(v: &mut Value, m: Value) {
    v["mounts"].as_array_mut().unwrap().push(m);
}

fn set_opts(v: &mut Value, typ: &str, opts: Value) {
    for m in v["mounts"].as_array_mut().unwrap() {
        if m["type"] == typ {
            m["options"] = opts.clone();
        }
    }
}

#[test]
fn the_default_spec_is_accepted_by_every_preset() {
    for preset in ["hardened", "baseline", "unconfined"] {
        let e = eval(&base(), preset);
        assert!(!e.refused(), "{preset}: {:?}", refusals(&e));
    }
}

#[test]
fn every_rule_refuses_its_config_and_accepts_the_remedy() {
    for preset in ["hardened", "baseline"] {
        for (rule, breaks, remedy) in cases() {
            let mut bad = base();
            breaks(&mut bad);
            let e = eval(&bad, preset);
            assert!(
                e.findings.iter().any(|f| f.rule == rule && f.severity == Severity::Refuse),
                "{preset}: {rule} not raised by {bad}"
            );
            assert!(e.refusal_message().contains(rule));
            let mut good = base();
            remedy(&mut good);
            let e = eval(&good, preset);
            assert!(!e.refused(), "{preset}: remedy for {rule} still refused: {:?}", refusals(&e));
        }
    }
}

#[test]
fn unconfined_refuses_nothing_and_warns() {
    for (rule, breaks, _) in cases() {
        let mut bad = base();
        breaks(&mut bad);
        let e = eval(&bad, "unconfined");
        assert!(!e.refused(), "unconfined refused {rule}");
        assert!(e.findings.iter().any(|f| f.rule == "SCU-WARN-001"));
    }
}

#[test]
fn a_refused_create_lists_every_refusal_at_once() {
    let mut v = base();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN", "CAP_SYS_MODULE"]);
    v["process"]["oomScoreAdj"] = json!(-1);
    let msg = eval(&v, "hardened").refusal_message();
    assert!(msg.starts_with("refused by policy hardened: "), "{msg}");
    for part in ["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "SCU-PROC-001", "remedy:"] {
        assert!(msg.contains(part), "{msg}");
    }
    assert!(!msg.contains('\n'));
}

/// Found by fuzzing: a finding quotes the config (here a namespace path) and must stay one line
/// in `check`'s output and the log, or a bundle could forge findings.
#[test]
fn findings_escape_control_characters_they_quote() {
    let mut v = base();
    let ns = v["linux"]["namespaces"].as_array_mut().unwrap();
    ns.retain(|n| n["type"] != "network");
    ns.push(json!({"type": "network", "path": "/run/netns/x\nSCU-FAKE-001 /forged: ok"}));
    let e = eval(&v, "hardened");
    let f = e.findings.iter().find(|f| f.rule == "SCU-NS-002").expect("the path is refused");
    assert!(!f.line().contains('\n'), "{}", f.line());
    assert!(f.line().contains(r"/run/netns/x\nSCU-FAKE-001"), "{}", f.line());
    assert!(!e.refusal_message().contains('\n'));
}

#[test]
fn hardened_adds_user_namespace_and_hardening_baseline_does_not() {
    let mut v = base();
    v["root"]["readonly"] = json!(false);
    v["process"]["noNewPrivileges"] = json!(false);
    v["process"]["capabilities"]["bounding"] = json!(["CAP_NET_RAW", "CAP_KILL"]);
    v["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "cgroup");
    let e = eval(&v, "hardened");
    let s = &e.spec;
    assert_eq!(e.userns, UsernsPlan { allocate: true, idmap_rootfs: true });
    let ns: Vec<LinuxNamespaceType> =
        s.linux().as_ref().unwrap().namespaces().as_ref().unwrap().iter().map(|n| n.typ()).collect();
    assert!(ns.contains(&LinuxNamespaceType::User) && ns.contains(&LinuxNamespaceType::Cgroup));
    assert_eq!(s.root().as_ref().unwrap().readonly(), Some(true));
    assert_eq!(s.process().as_ref().unwrap().no_new_privileges(), Some(true));
    let bounding: Vec<String> = s
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .as_ref()
        .unwrap()
        .bounding()
        .iter()
        .flatten()
        .map(crate::caps::name)
        .collect();
    assert_eq!(bounding, ["CAP_KILL"]);
    let dests: Vec<String> =
        s.mounts().as_ref().unwrap().iter().map(|m| m.destination().display().to_string()).collect();
    for d in ["/tmp", "/run", "/var/tmp"] {
        assert!(dests.contains(&d.to_string()), "{d} tmpfs missing: {dests:?}");
    }
    let rules: Vec<&str> = e.findings.iter().map(|f| f.rule.as_str()).collect();
    for r in ["SCU-ADJ-001", "SCU-ADJ-002", "SCU-ADJ-004", "SCU-ADJ-005", "SCU-ADJ-006", "SCU-ADJ-008"] {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    assert!(e.findings.iter().any(|f| f.rule == "SCU-ADJ-003"), "no default seccomp profile");
    assert!(s.linux().as_ref().unwrap().seccomp().is_some());
    // Where the host cannot enforce the default pids limit, check says so rather than claim it.
    assert!(e.findings.iter().any(|f| f.rule == "SCU-WARN-003" && f.pointer == "/linux/resources/pids"));

    let b = eval(&v, "baseline");
    assert_eq!(b.userns, UsernsPlan::default());
    assert_eq!(b.spec, spec_of(&v), "baseline must not change the config");
}

#[test]
fn hardened_keeps_a_config_user_namespace_but_refuses_mapping_host_root() {
    let mut v = base();
    v["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let e = eval(&v, "hardened");
    assert!(!e.refused());
    assert!(!e.userns.allocate);
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 0, "size": 65536}]);
    assert!(eval(&v, "hardened").findings.iter().any(|f| f.rule == "SCU-NS-003"));
}

#[test]
fn annotations_can_tighten_but_never_loosen() {
    let mut v = base();
    v["annotations"] = json!({POLICY_ANNOTATION: "unconfined"});
    v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]);
    let e = eval(&v, "hardened");
    assert!(e.refused(), "an annotation loosened the policy");
    assert_eq!(e.policy, "hardened");
    assert!(e.findings.iter().any(|f| f.rule == "SCU-WARN-002"));

    let mut v = base();
    v["annotations"] = json!({POLICY_ANNOTATION: "hardened"});
    let e = eval(&v, "baseline");
    assert_eq!(e.policy, "hardened");
    assert!(e.userns.allocate, "tightening to hardened must add the user namespace");
}

#[test]
fn hooks_need_the_allowlist_under_hardened_only() {
    let mut v = base();
    v["hooks"] = json!({"prestart": [{"path": "/usr/bin/hook"}]});
    assert!(eval(&v, "hardened").findings.iter().any(|f| f.rule == "SCU-HOOK-001"));
    assert!(!eval(&v, "baseline").refused());
    let mut p = Policy::preset("hardened").unwrap();
    p.hook_allowlist = vec!["/usr/bin/hook".into()];
    assert!(!evaluate(&spec_of(&v), &p, &ctx()).refused());
}

#[test]
fn allow_capabilities_lets_a_forbidden_capability_through() {
    let mut v = base();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_NET_ADMIN"]);
    let mut p = Policy::preset("hardened").unwrap();
    assert!(evaluate(&spec_of(&v), &p, &ctx()).refused());
    p.allow_capabilities = vec!["CAP_NET_ADMIN".into()];
    let e = evaluate(&spec_of(&v), &p, &ctx());
    assert!(!e.refused());
    let caps =
        e.spec.process().as_ref().unwrap().capabilities().as_ref().unwrap().bounding().clone().unwrap();
    assert!(
        caps.iter().any(|c| crate::caps::name(c) == "CAP_NET_ADMIN"),
        "the ceiling must include allowed caps"
    );
}

#[test]
fn policy_files_override_presets_and_bad_files_are_errors() {
    let p = Policy::from_file(Path::new("p.json"), br#"{"preset":"baseline","allowBindSources":["/srv"]}"#)
        .unwrap();
    assert_eq!(p.name, "baseline");
    assert_eq!(p.allow_bind_sources, ["/srv"]);
    for bad in [
        &br#"{"preset":"hardened","unknownKey":1}"#[..],
        br#"{"preset":"nope"}"#,
        br#"{"preset":"hardened","allowCapabilities":["CAP_FOO"]}"#,
        br#"{"preset":"hardened","uidPool":{"start":0,"size":10}}"#,
        b"not json",
    ] {
        assert!(Policy::from_file(Path::new("p.json"), bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

/// Found by fuzzing (fuzz/corpus/policy_file/seed-pool-overflow.json): start + size overflowed,
/// a panic in debug builds and, wrapped in release builds, a pool accepted at host uid 0.
#[test]
fn a_uid_pool_that_overflows_is_refused() {
    // The second wraps to exactly 0 and, truncated to 32 bits, would have started at host uid 0.
    let wraps_to_host_root: (u64, u64) = (u64::MAX - (1 << 32) + 1, 1 << 32);
    for (start, size) in [(u64::MAX, 65536), wraps_to_host_root, (u64::MAX - 65535, 65536), (1 << 63, 65536)]
    {
        let text = format!(r#"{{"preset":"hardened","uidPool":{{"start":{start},"size":{size}}}}}"#);
        let e = Policy::from_file(Path::new("p.json"), text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("uidPool"), "{start}: {e}");
    }
}

#[test]
fn presets_parse() {
    for p in ["hardened", "baseline", "unconfined"] {
        assert_eq!(Policy::preset(p).unwrap().name, p);
    }
    assert_eq!(Policy::preset("hardened").unwrap().capability_ceiling.len(), 13);
}

#[test]
fn the_readme_documents_every_rule() {
    let readme = include_str!("../../README.md");
    for r in data::rules() {
        assert!(readme.contains(&format!("`{}`", r.id)), "README.md lacks a row for {}", r.id);
    }
}
