//! The refusal rules (hardened and baseline): configurations known to enable escape. Each
//! function checks one rule and pushes a finding per offending field.

use super::{data, paths, Context, Finding, Policy};
use crate::caps;
use oci_spec::runtime::{LinuxDeviceType, LinuxNamespaceType, LinuxSeccompAction, Mount, Spec};
use std::path::Path;

/// Runs every refusal rule. `original` is the config as given; `effective` is after the
/// hardened adjustments, which the mask and read-only-path rules judge (hardened fixes them).
pub fn check(original: &Spec, effective: &Spec, policy: &Policy, ctx: &Context, out: &mut Vec<Finding>) {
    capabilities(original, policy, out);
    namespaces(original, policy, ctx, out);
    mounts(original, policy, ctx, out);
    proc_protection(effective, out);
    sysctls(original, out);
    seccomp(original, out);
    devices(original, out);
    process(original, out);
    hooks(original, policy, out);
    annotations(original, out);
}

fn capabilities(spec: &Spec, policy: &Policy, out: &mut Vec<Finding>) {
    let Some(c) = spec.process().as_ref().and_then(|p| p.capabilities().as_ref()) else { return };
    let forbidden = &data::capabilities().forbidden;
    let sets = super::capability_sets(c);
    for (set, caps_in) in sets {
        let mut names: Vec<String> = caps_in.iter().flatten().map(caps::name).collect();
        names.sort();
        for n in names {
            if forbidden.contains(&n) && !policy.allow_capabilities.contains(&n) {
                out.push(Finding::new("SCU-CAP-001", format!("/process/capabilities/{set}"), n));
            }
        }
    }
}

fn ns_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mount",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Time => "time",
    }
}

fn namespaces(spec: &Spec, policy: &Policy, ctx: &Context, out: &mut Vec<Finding>) {
    let linux = spec.linux().as_ref();
    let list = linux.and_then(|l| l.namespaces().as_deref()).unwrap_or_default();
    use LinuxNamespaceType::*;
    for required in [Pid, Network, Ipc, Uts, Mount] {
        if !list.iter().any(|n| n.typ() == required) {
            out.push(Finding::new(
                "SCU-NS-001",
                "/linux/namespaces",
                format!("no {} namespace", ns_name(required)),
            ));
        }
    }
    for (i, ns) in list.iter().enumerate() {
        let Some(path) = ns.path() else { continue };
        let id = ctx.ns_paths.get(path).copied().flatten();
        let host = ctx.host_namespaces.get(&ns.typ()).copied();
        let why = match (id, host) {
            (None, _) => Some(format!("{} cannot be verified as a namespace", path.display())),
            (Some(a), Some(h)) if a == h => {
                Some(format!("{} is the host's {} namespace", path.display(), ns_name(ns.typ())))
            }
            _ => None,
        };
        if let Some(why) = why {
            out.push(Finding::new("SCU-NS-002", format!("/linux/namespaces/{i}/path"), why));
        }
    }
    if policy.user_namespace {
        let maps = [
            ("uidMappings", linux.and_then(|l| l.uid_mappings().as_deref())),
            ("gidMappings", linux.and_then(|l| l.gid_mappings().as_deref())),
        ];
        for (field, m) in maps {
            for (i, m) in m.unwrap_or_default().iter().enumerate() {
                if m.host_id() == 0 {
                    out.push(Finding::new("SCU-NS-003", format!("/linux/{field}/{i}"), "hostID 0 is mapped"));
                }
            }
        }
    }
}

fn is_bind(m: &Mount) -> bool {
    m.typ().as_deref() == Some("bind") || m.options().iter().flatten().any(|o| o == "bind" || o == "rbind")
}

fn has_opt(m: &Mount, opt: &str) -> bool {
    m.options().iter().flatten().any(|o| o == opt)
}

fn mounts(spec: &Spec, policy: &Policy, ctx: &Context, out: &mut Vec<Finding>) {
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let typ = m.typ().as_deref().unwrap_or_default();
        // As the mount will really be: `ro,rw` is writable (options the rootfs cannot parse
        // fail create anyway; judged writable here).
        let opts = m.options().as_deref().unwrap_or_default();
        let readonly = crate::rootfs::options::parse(opts).is_ok_and(|o| o.readonly());
        if is_bind(m) {
            let src = m.source().clone().unwrap_or_default();
            if let Some(why) = paths::bind_source_refusal(&src, readonly, policy, &ctx.rootfs) {
                out.push(Finding::new("SCU-MNT-001", format!("/mounts/{i}/source"), why));
            }
        }
        if matches!(typ, "sysfs" | "cgroup" | "cgroup2") && !readonly {
            out.push(Finding::new(
                "SCU-MNT-002",
                format!("/mounts/{i}/options"),
                format!("{typ} on {} is writable", m.destination().display()),
            ));
        }
        if typ == "proc" && crate::rootfs::resolve::normalize(m.destination()) != Path::new("proc") {
            out.push(Finding::new(
                "SCU-MNT-005",
                format!("/mounts/{i}/destination"),
                format!("proc on {}", m.destination().display()),
            ));
        }
        if has_opt(m, "shared") || has_opt(m, "rshared") {
            out.push(Finding::new(
                "SCU-MNT-004",
                format!("/mounts/{i}/options"),
                format!("shared propagation on {}", m.destination().display()),
            ));
        }
    }
    let rp = spec.linux().as_ref().and_then(|l| l.rootfs_propagation().as_deref());
    if matches!(rp, Some("shared") | Some("rshared")) {
        out.push(Finding::new("SCU-MNT-004", "/linux/rootfsPropagation", rp.unwrap_or_default().to_string()));
    }
}

/// The read-only paths that keep /proc from writing to the host kernel.
pub const PROC_READONLY: [&str; 5] =
    ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

fn proc_protection(spec: &Spec, out: &mut Vec<Finding>) {
    let mounts = spec.mounts().as_deref().unwrap_or_default();
    let proc_mounted = mounts.iter().any(|m| m.typ().as_deref() == Some("proc"));
    let sys_mounted = mounts.iter().any(|m| m.typ().as_deref() == Some("sysfs"));
    let linux = spec.linux().as_ref();
    let ro = linux.and_then(|l| l.readonly_paths().as_deref()).unwrap_or_default();
    let masked = linux.and_then(|l| l.masked_paths().as_deref()).unwrap_or_default();
    let covered = |p: &str| ro.iter().chain(masked).any(|x| x == p);
    if proc_mounted {
        for p in PROC_READONLY.iter().filter(|p| !covered(p)) {
            out.push(Finding::new("SCU-MNT-003", "/linux/readonlyPaths", format!("{p} is writable")));
        }
    }
    for p in crate::spec::defaults::MASKED_PATHS {
        let relevant = (p.starts_with("/proc/") && proc_mounted) || (p.starts_with("/sys/") && sys_mounted);
        // Read-only is accepted in place of a mask: containerd moved /proc/asound there.
        if relevant && !covered(p) {
            out.push(Finding::new("SCU-MNT-006", "/linux/maskedPaths", format!("{p} is not masked")));
        }
    }
}

/// Whether sysctl `key` is isolated by a namespace the container has of its own.
fn sysctl_allowed(key: &str, has: impl Fn(LinuxNamespaceType) -> bool) -> bool {
    let t = data::sysctls();
    let in_group = |g: &data::SysctlGroup| {
        g.exact.iter().any(|e| e == key) || g.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    };
    (in_group(&t.ipc) && has(LinuxNamespaceType::Ipc))
        || (in_group(&t.network) && has(LinuxNamespaceType::Network))
        || (in_group(&t.uts) && has(LinuxNamespaceType::Uts))
}

fn sysctls(spec: &Spec, out: &mut Vec<Finding>) {
    let linux = spec.linux().as_ref();
    let Some(map) = linux.and_then(|l| l.sysctl().as_ref()) else { return };
    let list = linux.and_then(|l| l.namespaces().as_deref()).unwrap_or_default();
    // Only a namespace the container creates is its own; a joined one belongs to someone else
    // (the pod's, whose owner decided), which is accepted too, but never the host's (SCU-NS-002).
    let has = |t: LinuxNamespaceType| list.iter().any(|n| n.typ() == t);
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for k in keys {
        if !sysctl_allowed(k, has) {
            out.push(Finding::new(
                "SCU-SYSCTL-001",
                format!("/linux/sysctl/{}", k.replace('~', "~0").replace('/', "~1")),
                k.clone(),
            ));
        }
    }
}

fn seccomp(spec: &Spec, out: &mut Vec<Finding>) {
    let Some(s) = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) else { return };
    let permissive =
        matches!(s.default_action(), LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog);
    let denies = s.syscalls().iter().flatten().any(|r| {
        !matches!(r.action(), LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog)
            && !r.names().is_empty()
    });
    if permissive && !denies {
        out.push(Finding::new(
            "SCU-SEC-001",
            "/linux/seccomp/defaultAction",
            format!("{:?} with no rule that denies", s.default_action()),
        ));
    }
}

fn devices(spec: &Spec, out: &mut Vec<Finding>) {
    let linux = spec.linux().as_ref();
    let rules =
        linux.and_then(|l| l.resources().as_ref()).and_then(|r| r.devices().as_deref()).unwrap_or_default();
    for (i, d) in rules.iter().enumerate().filter(|(_, d)| d.allow()) {
        let typ = d.typ().unwrap_or(LinuxDeviceType::A);
        let why = match (typ, d.major(), d.minor()) {
            (LinuxDeviceType::A, _, _) => Some("allows every device".to_string()),
            (LinuxDeviceType::B, _, _) => Some("allows block devices".to_string()),
            (LinuxDeviceType::C, None, _) => Some("allows every character device".to_string()),
            (LinuxDeviceType::C, Some(1), None) => {
                Some("allows /dev/mem, /dev/kmem and /dev/port (major 1)".to_string())
            }
            (LinuxDeviceType::C, Some(1), Some(m)) if [1, 2, 4].contains(&m) => {
                Some(format!("allows memory device 1:{m}"))
            }
            _ => None,
        };
        if let Some(why) = why {
            out.push(Finding::new("SCU-DEV-001", format!("/linux/resources/devices/{i}"), why));
        }
    }
    for (i, d) in linux.and_then(|l| l.devices().as_deref()).unwrap_or_default().iter().enumerate() {
        let why = match d.typ() {
            LinuxDeviceType::B => Some(format!("{} is a block device", d.path().display())),
            LinuxDeviceType::C | LinuxDeviceType::U if d.major() == 1 && [1, 2, 4].contains(&d.minor()) => {
                Some(format!("{} is a memory device", d.path().display()))
            }
            _ => None,
        };
        if let Some(why) = why {
            out.push(Finding::new("SCU-DEV-001", format!("/linux/devices/{i}"), why));
        }
    }
}

fn process(spec: &Spec, out: &mut Vec<Finding>) {
    let Some(p) = spec.process().as_ref() else { return };
    if let Some(adj) = p.oom_score_adj().filter(|a| *a < 0) {
        out.push(Finding::new("SCU-PROC-001", "/process/oomScoreAdj", adj.to_string()));
    }
    // Lexically normalised, as the init judges them: "/x/../proc/self/cwd" is under /proc too.
    let under_proc = |s: &Path| crate::rootfs::resolve::normalize(s).starts_with("proc");
    // args[0] with a '/' is a path (relative to the cwd); without one, a $PATH lookup.
    if let Some(a0) = p.args().as_ref().and_then(|a| a.first()).filter(|a| a.contains('/')) {
        if under_proc(&p.cwd().join(a0)) {
            out.push(Finding::new("SCU-PROC-002", "/process/args/0", a0.clone()));
        }
    }
    if under_proc(p.cwd()) {
        out.push(Finding::new("SCU-PROC-002", "/process/cwd", p.cwd().display().to_string()));
    }
}

fn hooks(spec: &Spec, policy: &Policy, out: &mut Vec<Finding>) {
    if !policy.restrict_hooks {
        return;
    }
    let Some(h) = spec.hooks().as_ref() else { return };
    #[allow(deprecated)]
    let kinds = [
        ("prestart", h.prestart()),
        ("createRuntime", h.create_runtime()),
        ("createContainer", h.create_container()),
        ("startContainer", h.start_container()),
        ("poststart", h.poststart()),
        ("poststop", h.poststop()),
    ];
    for (kind, list) in kinds {
        for (i, hook) in list.iter().flatten().enumerate() {
            let path = hook.path().display().to_string();
            if !policy.hook_allowlist.contains(&path) {
                out.push(Finding::new("SCU-HOOK-001", format!("/hooks/{kind}/{i}/path"), path));
            }
        }
    }
}

fn annotations(spec: &Spec, out: &mut Vec<Finding>) {
    let Some(a) = spec.annotations().as_ref() else { return };
    let mut keys: Vec<&String> = a.keys().collect();
    keys.sort();
    for k in keys {
        if k.starts_with("org.systemd.property.") || k == "org.criu.config" || k.starts_with("run.oci.") {
            out.push(Finding::new(
                "SCU-ANN-001",
                format!("/annotations/{}", k.replace('~', "~0").replace('/', "~1")),
                k.clone(),
            ));
        }
    }
}
