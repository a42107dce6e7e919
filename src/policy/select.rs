//! Choosing the host's policy and gathering the host facts the rules need. The only part of
//! policy/ that does I/O; everything it returns feeds the pure [`super::evaluate`].
//!
//! Selection, first match wins: `--policy NAME|FILE`, then `<root>/policy.json` (each
//! containerd runtime class has its own `Root`, so each can have its own policy), then
//! /etc/scutum/policy.json, then the built-in `hardened`. A malformed file is an error, never
//! a fallback to something weaker. The bundle never chooses.

use super::{Context, Policy, PolicyError};
use crate::spec::{read_limited, SpecError};
use crate::sys;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::path::{Path, PathBuf};

pub const SYSTEM_POLICY: &str = "/etc/scutum/policy.json";

/// Parses a policy file read through config.json's guarded read ([`crate::spec::read_limited`]):
/// regular files only (a FIFO planted as `<root>/policy.json` would otherwise block every
/// create), opened non-blocking, size capped.
fn from_read(path: &Path, read: Result<Vec<u8>, SpecError>) -> Result<Policy, PolicyError> {
    let bytes = read.map_err(|e| {
        let msg = match e {
            SpecError::Read { source, .. } => source.to_string(),
            SpecError::NotRegular { kind, .. } => format!("is {kind}, not a regular file"),
            other => other.to_string(),
        };
        PolicyError::File { path: path.to_path_buf(), msg }
    })?;
    Policy::from_file(path, &bytes)
}

/// The host policy for a runtime rooted at `root`.
pub fn select(flag: Option<&str>, root: &Path) -> Result<Policy, PolicyError> {
    if let Some(f) = flag {
        return match f {
            "hardened" | "baseline" | "unconfined" => Policy::preset(f),
            path if path.contains('/') || path.ends_with(".json") => {
                from_read(Path::new(path), read_limited(Path::new(path)))
            }
            other => Err(PolicyError::UnknownPreset(other.to_string())),
        };
    }
    for candidate in [root.join("policy.json"), PathBuf::from(SYSTEM_POLICY)] {
        match read_limited(&candidate) {
            Err(SpecError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => continue,
            read => return from_read(&candidate, read),
        }
    }
    Policy::preset("hardened")
}

fn ns_file(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    let fd = sys::fs::openat(None, path, libc::O_PATH, 0).ok()?;
    let st = sys::fs::fstat(std::os::fd::AsFd::as_fd(&fd)).ok()?;
    Some((st.st_dev, st.st_ino))
}

/// The host facts for evaluating `spec`: namespace identities, the rootfs, what this build
/// and host can enforce.
pub fn context(spec: &Spec, rootfs: &Path, pids_enforceable: bool) -> Context {
    let mut ctx = Context { rootfs: rootfs.to_path_buf(), pids_enforceable, ..Default::default() };
    let list = spec.linux().as_ref().and_then(|l| l.namespaces().as_deref()).unwrap_or_default();
    for ns in list {
        if let Some(p) = ns.path() {
            ctx.ns_paths.insert(p.clone(), identity(p));
            let host = PathBuf::from(format!("/proc/self/ns/{}", ns_file(ns.typ())));
            if let Some(id) = identity(&host) {
                ctx.host_namespaces.insert(ns.typ(), id);
            }
        }
    }
    ctx
}
