//! The hardened adjustments: defaults forced onto every container, each reported as an
//! adjust finding so an operator sees what changed.

use super::{Context, Finding, Policy, UsernsPlan};
use crate::caps;
use oci_spec::runtime::{
    Capabilities, Capability, Linux, LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources, Mount,
    Spec,
};
use std::path::PathBuf;

/// Returns the effective config and what create must do for the user namespace.
pub fn apply(spec: &Spec, policy: &Policy, ctx: &Context, out: &mut Vec<Finding>) -> (Spec, UsernsPlan) {
    let mut s = spec.clone();
    let userns = user_namespace(&mut s, policy, out);
    capabilities(&mut s, policy, out);
    if policy.default_seccomp {
        seccomp(&mut s, out);
    }
    if policy.readonly_root {
        readonly_root(&mut s, out);
        tmpfs(&mut s, policy, out);
    }
    if policy.no_new_privileges {
        no_new_privileges(&mut s, out);
    }
    masks(&mut s, out);
    if policy.cgroup_namespace {
        add_namespace(&mut s, LinuxNamespaceType::Cgroup, "SCU-ADJ-008", out);
    }
    if policy.default_pids_limit > 0 {
        pids(&mut s, policy, ctx, out);
    }
    (s, userns)
}

fn linux(s: &mut Spec) -> &mut Linux {
    if s.linux().is_none() {
        s.set_linux(Some(Linux::default()));
        // Linux::default() carries example namespaces and masks; start from nothing instead.
        let l = s.linux_mut().as_mut().expect("just set");
        l.set_namespaces(None).set_masked_paths(None).set_readonly_paths(None).set_resources(None);
    }
    s.linux_mut().as_mut().expect("set above")
}

fn add_namespace(s: &mut Spec, t: LinuxNamespaceType, rule: &str, out: &mut Vec<Finding>) -> bool {
    let l = linux(s);
    let mut list = l.namespaces().clone().unwrap_or_default();
    if list.iter().any(|n| n.typ() == t) {
        return false;
    }
    let mut ns = LinuxNamespace::default();
    ns.set_typ(t);
    list.push(ns);
    l.set_namespaces(Some(list));
    out.push(Finding::new(rule, "/linux/namespaces", format!("{t} namespace added")));
    true
}

/// A user namespace of its own, unless the config brings one (new with mappings, or joined).
fn user_namespace(s: &mut Spec, policy: &Policy, out: &mut Vec<Finding>) -> UsernsPlan {
    if !policy.user_namespace {
        return UsernsPlan::default();
    }
    let has = s
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .into_iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::User);
    if has {
        return UsernsPlan::default();
    }
    add_namespace(s, LinuxNamespaceType::User, "SCU-ADJ-001", out);
    UsernsPlan { allocate: true, idmap_rootfs: true }
}

fn names(set: &Option<Capabilities>) -> Vec<String> {
    let mut v: Vec<String> = set.iter().flatten().map(caps::name).collect();
    v.sort();
    v
}

fn capabilities(s: &mut Spec, policy: &Policy, out: &mut Vec<Finding>) {
    let Some(p) = s.process_mut().as_mut() else { return };
    let Some(c) = p.capabilities().clone() else { return };
    let ceiling: Vec<&String> = policy.capability_ceiling.iter().chain(&policy.allow_capabilities).collect();
    let within = |n: &String| policy.capability_ceiling.is_empty() || ceiling.contains(&n);
    let keep = |set: &Option<Capabilities>| -> Option<Capabilities> {
        set.as_ref().map(|x| x.iter().filter(|cap| within(&caps::name(cap))).copied().collect())
    };
    let mut removed: Vec<(String, Vec<&str>)> = Vec::new();
    let sets = super::capability_sets(&c);
    for (set, list) in sets {
        for n in names(list).into_iter().filter(|n| !within(n)) {
            match removed.iter_mut().find(|(name, _)| *name == n) {
                Some((_, sets)) => sets.push(set),
                None => removed.push((n, vec![set])),
            }
        }
    }
    let mut nc = c.clone();
    nc.set_bounding(keep(c.bounding()))
        .set_effective(keep(c.effective()))
        .set_inheritable(keep(c.inheritable()))
        .set_permitted(keep(c.permitted()));
    // Ambient capabilities only exist when also permitted and inheritable (capabilities(7)).
    let (perm, inh) =
        (nc.permitted().clone().unwrap_or_default(), nc.inheritable().clone().unwrap_or_default());
    let ambient: Option<Capabilities> = keep(c.ambient());
    let (amb_ok, amb_dropped): (Vec<Capability>, Vec<Capability>) =
        ambient.iter().flatten().partition(|cap| perm.contains(cap) && inh.contains(cap));
    nc.set_ambient(ambient.map(|_| amb_ok.into_iter().collect()));
    p.set_capabilities(Some(nc));
    for (n, sets) in removed {
        out.push(Finding::new(
            "SCU-ADJ-002",
            "/process/capabilities",
            format!("{n} removed from {}", sets.join(", ")),
        ));
    }
    let mut dropped: Vec<String> = amb_dropped.iter().map(caps::name).collect();
    dropped.sort();
    for n in dropped {
        out.push(Finding::new(
            "SCU-ADJ-010",
            "/process/capabilities/ambient",
            format!("{n} is not both permitted and inheritable"),
        ));
    }
}

fn seccomp(s: &mut Spec, out: &mut Vec<Finding>) {
    if s.linux().as_ref().and_then(|l| l.seccomp().as_ref()).is_some() {
        return;
    }
    linux(s).set_seccomp(Some(crate::seccomp::default_profile()));
    out.push(Finding::new("SCU-ADJ-003", "/linux/seccomp", "scutum's default profile"));
}

fn readonly_root(s: &mut Spec, out: &mut Vec<Finding>) {
    let Some(root) = s.root_mut().as_mut() else { return };
    if root.readonly() != Some(true) {
        root.set_readonly(Some(true));
        out.push(Finding::new("SCU-ADJ-004", "/root/readonly", "root made read-only"));
    }
}

fn tmpfs(s: &mut Spec, policy: &Policy, out: &mut Vec<Finding>) {
    let mut mounts = s.mounts().clone().unwrap_or_default();
    for (dest, size) in &policy.tmpfs {
        let taken = mounts.iter().any(|m| {
            crate::rootfs::resolve::normalize(m.destination())
                == crate::rootfs::resolve::normalize(dest.as_ref())
        });
        if taken {
            continue;
        }
        let mode = if dest == "/run" { "mode=755" } else { "mode=1777" };
        let mut m = Mount::default();
        m.set_destination(PathBuf::from(dest))
            .set_typ(Some("tmpfs".into()))
            .set_source(Some(PathBuf::from("tmpfs")))
            .set_options(Some(vec!["nosuid".into(), "nodev".into(), mode.into(), format!("size={size}")]));
        mounts.push(m);
        out.push(Finding::new("SCU-ADJ-005", "/mounts", format!("tmpfs of {size} on {dest}")));
    }
    s.set_mounts(Some(mounts));
}

fn no_new_privileges(s: &mut Spec, out: &mut Vec<Finding>) {
    let Some(p) = s.process_mut().as_mut() else { return };
    if p.no_new_privileges() != Some(true) {
        p.set_no_new_privileges(Some(true));
        out.push(Finding::new("SCU-ADJ-006", "/process/noNewPrivileges", "set to true"));
    }
}

fn merge(list: Option<Vec<String>>, defaults: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut l = list.unwrap_or_default();
    let mut added = Vec::new();
    for d in defaults {
        if !l.iter().any(|x| x == d) {
            l.push(d.to_string());
            added.push(d.to_string());
        }
    }
    (l, added)
}

fn masks(s: &mut Spec, out: &mut Vec<Finding>) {
    let l = linux(s);
    let (masked, m_added) = merge(l.masked_paths().clone(), &crate::spec::defaults::MASKED_PATHS);
    let (ro, r_added) = merge(l.readonly_paths().clone(), &crate::spec::defaults::READONLY_PATHS);
    l.set_masked_paths(Some(masked)).set_readonly_paths(Some(ro));
    if !m_added.is_empty() {
        out.push(Finding::new("SCU-ADJ-007", "/linux/maskedPaths", format!("added {}", m_added.join(", "))));
    }
    if !r_added.is_empty() {
        out.push(Finding::new(
            "SCU-ADJ-007",
            "/linux/readonlyPaths",
            format!("added {}", r_added.join(", ")),
        ));
    }
}

fn pids(s: &mut Spec, policy: &Policy, ctx: &Context, out: &mut Vec<Finding>) {
    let l = linux(s);
    let has = l.resources().as_ref().and_then(|r| r.pids().as_ref()).is_some();
    if has {
        return;
    }
    if !ctx.pids_enforceable {
        out.push(Finding::new(
            "SCU-WARN-003",
            "/linux/resources/pids",
            format!("the default pids limit ({}) is NOT applied: this host's cgroup v2 hierarchy has no pids controller", policy.default_pids_limit),
        ));
        return;
    }
    let mut r = l.resources().clone().unwrap_or_else(|| {
        let mut r = LinuxResources::default();
        r.set_devices(None);
        r
    });
    let mut p = LinuxPids::default();
    p.set_limit(policy.default_pids_limit);
    r.set_pids(Some(p));
    l.set_resources(Some(r));
    out.push(Finding::new(
        "SCU-ADJ-009",
        "/linux/resources/pids/limit",
        policy.default_pids_limit.to_string(),
    ));
}
