//! The host policy end to end: the hardened defaults inside a real container, per-container id
//! ranges, refusals with rule ids, policy selection, `check`, and the configs real clients
//! (containerd's ctr, CRI) generate.

mod common;
use common::*;
use serde_json::{json, Value};

fn field(status: &str, key: &str) -> String {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("{key} missing"))
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap()
}

/// Bits of the hardened capability ceiling (the 14 containerd defaults minus NET_RAW).
const CEILING: u64 = (1 << 0)
    | (1 << 1)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 10)
    | (1 << 18)
    | (1 << 27)
    | (1 << 29)
    | (1 << 31);

#[test]
fn a_runc_spec_bundle_runs_hardened_under_the_default_policy() {
    let b = Bundle::new();
    std::fs::remove_file(b.path().join("config.json")).unwrap();
    let out = std::process::Command::new("runc").args(["spec", "--bundle"]).arg(b.path()).output().unwrap();
    assert!(out.status.success());
    // Ask for NET_RAW: the ceiling must take it away.
    let all = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]);
    b.edit(|c| {
        c["process"]["terminal"] = json!(false);
        c["process"]["capabilities"] = json!({"bounding": all, "effective": all, "permitted": all});
        c["process"]["args"] = json!(["sh", "-c",
            "cat /proc/self/uid_map; cat /proc/self/status; touch /x 2>&1; touch /tmp/ok && echo tmp-writable; \
             stat -c 'owner=%u' /bin/busybox; grep ' /tmp ' /proc/self/mountinfo"]);
    });
    let rt = Runtime::new();
    let r = rt.run(&unique("hard"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let map: Vec<u64> =
        r.stdout.lines().next().unwrap().split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert_eq!(map[0], 0);
    assert!(map[1] >= 65536, "container root maps to host uid {}", map[1]);
    assert_eq!(map[2], 65536);
    let eff = hex(&field(&r.stdout, "CapEff:"));
    let bnd = hex(&field(&r.stdout, "CapBnd:"));
    assert_eq!(eff & !CEILING, 0, "CapEff {eff:x} beyond the ceiling");
    assert_eq!(bnd & !CEILING, 0, "CapBnd {bnd:x} beyond the ceiling");
    assert_eq!(bnd & (1 << 13), 0, "NET_RAW survived");
    assert_eq!(field(&r.stdout, "NoNewPrivs:"), "1");
    assert_eq!(field(&r.stdout, "Seccomp:"), "2", "the default seccomp profile is not installed");
    assert!(r.stdout.contains("Read-only file system"), "{}", r.stdout);
    assert!(r.stdout.contains("tmp-writable"));
    assert!(
        r.stdout.contains("owner=0"),
        "root-owned image files must appear owned by container root: {}",
        r.stdout
    );
    let tmp_line = r.stdout.lines().find(|l| l.contains(" /tmp ")).unwrap();
    assert!(
        tmp_line.contains("nosuid") && tmp_line.contains("nodev") && tmp_line.contains("tmpfs"),
        "{tmp_line}"
    );
    assert!(!b.rootfs().join("x").exists());
    // The audit log records the decision and the range.
    let audit = std::fs::read_to_string(rt.root.path().join("audit.log")).unwrap();
    let entry: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(entry["decision"], "accepted");
    assert_eq!(entry["policy"], "hardened");
    assert_eq!(entry["uidRange"]["start"].as_u64().unwrap(), map[1]);
    assert!(entry["findings"].as_array().unwrap().iter().any(|f| f == "SCU-ADJ-001"));
}

#[test]
fn concurrent_containers_get_disjoint_ranges_and_delete_frees_them() {
    let rt = Runtime::new();
    let b = Bundle::sh("sleep 100");
    let ids: Vec<String> = (0..3).map(|_| unique("range")).collect();
    let mut starts = Vec::new();
    for id in &ids {
        rt.create(id, &b, &[]).ok();
        let pid = rt.state(id)["pid"].as_i64().unwrap();
        let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
        starts.push(map.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap());
    }
    let mut sorted = starts.clone();
    sorted.sort();
    for w in sorted.windows(2) {
        assert!(w[1] >= w[0] + 65536, "ranges overlap: {starts:?}");
    }
    let pool = rt.root.path().join("@uidpool");
    assert_eq!(std::fs::read_dir(&pool).unwrap().count(), 3);
    for id in &ids {
        rt.cmd(&["delete", "--force", id]).ok();
    }
    assert_eq!(std::fs::read_dir(&pool).unwrap().count(), 0, "delete must free the ranges");
}

#[test]
fn refusals_name_every_rule_and_leave_nothing_behind() {
    let rt = Runtime::new();
    let b = Bundle::sh("true");
    b.edit(|c| {
        c["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]);
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/host", "type": "bind", "source": "/", "options": ["rbind"]}));
    });
    let before = host_snapshot();
    let id = unique("refused");
    let r = rt.create(&id, &b, &[]).fails_with("refused by policy hardened");
    for part in ["SCU-CAP-001", "CAP_SYS_ADMIN", "SCU-MNT-001", "/mounts/7/source", "remedy"] {
        assert!(r.stderr.contains(part), "{part} missing: {}", r.stderr);
    }
    assert!(rt.ids().is_empty());
    assert_eq!(host_snapshot(), before);
    let last = rt.log_lines().pop().unwrap();
    assert_eq!(last["level"], "error");
    assert!(last["msg"].as_str().unwrap().contains("SCU-CAP-001"));
    let audit = std::fs::read_to_string(rt.root.path().join("audit.log")).unwrap();
    let entry: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(entry["decision"], "refused");
    assert_eq!(entry["id"], id.as_str());
}

/// Each rule, end to end: refused with its id, and the same config with the remedy runs.
#[test]
fn rule_table_end_to_end() {
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, Edit)> = vec![
        (
            "SCU-CAP-001",
            |c| c["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_MODULE"]),
            |c| c["process"]["capabilities"]["bounding"] = json!(["CAP_KILL"]),
        ),
        (
            "SCU-CAP-002",
            |c| c["process"]["capabilities"]["bounding"] = json!(["CAP_TELEPORT"]),
            |c| c["process"]["capabilities"]["bounding"] = json!(["CAP_KILL"]),
        ),
        (
            "SCU-NS-001",
            |c| c["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "network"),
            |_| {},
        ),
        (
            "SCU-NS-002",
            |c| {
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|n| n["type"] == "network")
                    .unwrap()["path"] = json!("/proc/self/ns/net")
            },
            |_| {},
        ),
        (
            "SCU-MNT-001",
            |c| {
                push(
                    c,
                    json!({"destination": "/s", "type": "bind", "source": "/run/containerd/containerd.sock", "options": ["bind"]}),
                )
            },
            |c| {
                push(
                    c,
                    json!({"destination": "/s", "type": "bind", "source": "/usr/share", "options": ["rbind", "ro"]}),
                )
            },
        ),
        (
            "SCU-MNT-002",
            |c| opts(c, "sysfs", json!(["nosuid", "nodev"])),
            |c| opts(c, "sysfs", json!(["nosuid", "nodev", "ro"])),
        ),
        (
            "SCU-MNT-004",
            |c| c["linux"]["rootfsPropagation"] = json!("shared"),
            |c| c["linux"]["rootfsPropagation"] = json!("rprivate"),
        ),
        (
            "SCU-MNT-005",
            |c| push(c, json!({"destination": "/proc2", "type": "proc", "source": "proc"})),
            |_| {},
        ),
        (
            "SCU-SYSCTL-001",
            |c| c["linux"]["sysctl"] = json!({"kernel.panic": "1"}),
            |c| c["linux"]["sysctl"] = json!({"net.ipv4.ping_group_range": "0 0"}),
        ),
        ("SCU-SEC-001", |c| c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_LOG"}), |_| {}),
        (
            "SCU-DEV-001",
            |c| c["linux"]["devices"] = json!([{"path": "/dev/mem", "type": "c", "major": 1, "minor": 1}]),
            |_| {},
        ),
        (
            "SCU-PROC-001",
            |c| c["process"]["oomScoreAdj"] = json!(-999),
            |c| c["process"]["oomScoreAdj"] = json!(0),
        ),
        (
            "SCU-PROC-002",
            |c| c["process"]["cwd"] = json!("/proc/self/cwd"),
            |c| c["process"]["cwd"] = json!("/tmp"),
        ),
        ("SCU-HOOK-001", |c| c["hooks"] = json!({"poststop": [{"path": "/bin/true"}]}), |_| {}),
        (
            "SCU-ANN-001",
            |c| c["annotations"] = json!({"run.oci.keep_original_groups": "1"}),
            |c| c["annotations"] = json!({"example.com/team": "a"}),
        ),
    ];
    let rt = Runtime::new();
    for (rule, breaks, remedy) in cases {
        let b = Bundle::sh("true");
        b.edit(breaks);
        let r = rt.create(&unique("rule"), &b, &[]);
        assert_eq!(r.code, 1, "{rule}: not refused");
        assert!(r.stderr.contains(rule), "{rule}: {}", r.stderr);
        let b = Bundle::sh("echo ran");
        b.edit(remedy);
        let r = rt.run(&unique("remedy"), &b);
        assert_eq!((r.code, r.stdout.as_str()), (0, "ran\n"), "{rule}: remedy refused: {}", r.stderr);
    }
    assert!(rt.ids().is_empty());
}

fn push(c: &mut Value, m: Value) {
    c["mounts"].as_array_mut().unwrap().push(m);
}

fn opts(c: &mut Value, typ: &str, o: Value) {
    for m in c["mounts"].as_array_mut().unwrap() {
        if m["type"] == typ {
            m["options"] = o.clone();
        }
    }
}

#[test]
fn a_symlinked_bind_source_is_judged_by_where_it_leads() {
    // Attack: the config names a harmless-looking path that is a symlink to /etc.
    let rt = Runtime::new();
    let b = Bundle::sh("cat /data/shadow");
    let link = b.path().join("innocent");
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    b.edit(|c| {
        push(c, json!({"destination": "/data", "type": "bind", "source": link, "options": ["rbind", "ro"]}))
    });
    let r = rt.create(&unique("symsrc"), &b, &[]).fails_with("SCU-MNT-001");
    assert!(r.stderr.contains("resolves to /etc"), "{}", r.stderr);
    assert!(rt.ids().is_empty());
}

#[test]
fn an_annotation_cannot_relax_the_policy() {
    let rt = Runtime::new();
    let b = Bundle::sh("true");
    b.edit(|c| {
        c["annotations"] = json!({"io.scutum.policy": "unconfined"});
        c["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]);
    });
    rt.create(&unique("ann"), &b, &[]).fails_with("SCU-CAP-001");
}

#[test]
fn a_per_root_policy_file_is_used_and_a_malformed_one_is_an_error() {
    let rt = Runtime::new();
    let b = Bundle::sh("cat /proc/self/uid_map");
    std::fs::write(rt.root.path().join("policy.json"), r#"{"preset": "baseline"}"#).unwrap();
    let r = rt.run(&unique("baseline"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("4294967295"), "baseline adds no user namespace: {}", r.stdout);

    std::fs::write(rt.root.path().join("policy.json"), r#"{"preset": "baseline", "allowEverything": true}"#)
        .unwrap();
    rt.create(&unique("badpolicy"), &b, &[]).fails_with("policy.json");
    std::fs::write(rt.root.path().join("policy.json"), "{").unwrap();
    rt.create(&unique("badpolicy"), &b, &[]).fails_with("policy.json");
    // A FIFO planted as the policy file would block every create waiting for a writer: it is
    // refused at once, never read, and never a fallback to the built-in default.
    std::fs::remove_file(rt.root.path().join("policy.json")).unwrap();
    let fifo = rt.root.path().join("policy.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let args = ["create", "--bundle", b.path().to_str().unwrap(), "fifopolicy"];
    rt.cmd_within_deadline(&args).fails_with("not a regular file");
    assert!(rt.ids().is_empty());
}

#[test]
fn check_prints_findings_and_exits_by_verdict() {
    let rt = Runtime::new();
    let b = Bundle::sh("true");
    let r = rt.cmd(&["check", "--bundle", b.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("verdict: accepted"));
    assert!(r.stdout.contains("ADJUST SCU-ADJ-001"), "{}", r.stdout);
    assert!(r.stdout.contains("effective config:"));

    b.edit(|c| c["process"]["capabilities"]["bounding"] = json!(["CAP_BPF"]));
    let r = rt.cmd(&["check", "--bundle", b.path().to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("REFUSE SCU-CAP-001") && r.stdout.contains("verdict: refused"), "{}", r.stdout);

    let r = rt.cmd(&["check", "--format", "json", "--bundle", b.path().to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verdict"], "refused");
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "SCU-CAP-001").unwrap();
    for key in ["severity", "pointer", "reason", "reference", "remedy"] {
        assert!(f[key].as_str().is_some_and(|s| !s.is_empty()), "{key} missing in {f}");
    }
    assert_eq!(f["pointer"], "/process/capabilities/bounding");
    assert!(v["effectiveConfig"]["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["type"] == "user"));

    let r = rt.cmd(&["check", "--policy", "unconfined", "--bundle", b.path().to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(rt.ids().is_empty(), "check must not create anything");
}

/// Namespaces like a pod sandbox's: a helper process holding its own net, ipc and uts.
struct Sandbox(std::process::Child);

impl Sandbox {
    fn new() -> Sandbox {
        let child = std::process::Command::new("unshare")
            .args(["--net", "--ipc", "--uts", "sleep", "600"])
            .spawn()
            .unwrap();
        // Wait until the namespaces differ from ours.
        for _ in 0..500 {
            let theirs = std::fs::read_link(format!("/proc/{}/ns/net", child.id()));
            if theirs.is_ok_and(|t| t != std::fs::read_link("/proc/self/ns/net").unwrap()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Sandbox(child)
    }
    fn ns(&self, t: &str) -> String {
        format!("/proc/{}/ns/{t}", self.0.id())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fixture(name: &str, sandbox: &Sandbox) -> String {
    let text =
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    text.replace("__POD__", "5f3c9a1e-0000-4000-8000-000000000001")
        .replace("__SANDBOX__", "9b1d3f00aa")
        .replace("__CONTAINER__", "c0ffee")
        .replace("__NETNS__", &sandbox.ns("net"))
        .replace("__IPCNS__", &sandbox.ns("ipc"))
        .replace("__UTSNS__", &sandbox.ns("uts"))
}

#[test]
fn the_configs_real_clients_generate_are_accepted() {
    let sandbox = Sandbox::new();
    let rt = Runtime::new();
    for name in ["ctr-run.json", "cri-pod-container.json"] {
        let b = Bundle::new();
        b.write_raw(&fixture(name, &sandbox));
        for policy in ["hardened", "baseline"] {
            let r = rt.cmd(&[
                "check",
                "--policy",
                policy,
                "--format",
                "json",
                "--bundle",
                b.path().to_str().unwrap(),
            ]);
            let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{name}: {}", r.stderr));
            let refused: Vec<&Value> =
                v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "refuse").collect();
            assert_eq!(r.code, 0, "{name} under {policy} refused: {refused:#?}");
        }
    }
    // Joining the host's own network namespace is what must be refused.
    let b = Bundle::new();
    b.write_raw(&fixture("cri-pod-container.json", &sandbox).replace(&sandbox.ns("net"), "/proc/1/ns/net"));
    let r = rt.cmd(&["check", "--bundle", b.path().to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("SCU-NS-002"), "{}", r.stdout);
}
