//! Which namespaces the init creates and which it joins, decided (and the join paths opened)
//! in the parent before any fork.

use crate::sys;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::io;
use std::os::fd::OwnedFd;

pub fn clone_flag(t: LinuxNamespaceType) -> i32 {
    match t {
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Time => libc::CLONE_NEWTIME,
    }
}

/// A namespace to join: its type and an fd on the path the config named.
pub struct Join {
    pub typ: LinuxNamespaceType,
    pub fd: OwnedFd,
    pub path: std::path::PathBuf,
}

pub struct NsPlan {
    /// CLONE_NEW* flags of the namespaces to create.
    pub new_flags: i32,
    /// Namespaces to join, user namespace first (its capabilities are what allow the others).
    pub joins: Vec<Join>,
}

impl NsPlan {
    pub fn from_spec(spec: &Spec) -> io::Result<NsPlan> {
        let mut plan = NsPlan { new_flags: 0, joins: Vec::new() };
        let list = spec.linux().as_ref().and_then(|l| l.namespaces().as_ref());
        for ns in list.into_iter().flatten() {
            match ns.path() {
                None => plan.new_flags |= clone_flag(ns.typ()),
                Some(path) => {
                    if ns.typ() == LinuxNamespaceType::Mount {
                        return Err(io::Error::other(
                            "joining an existing mount namespace is not supported: the container's root is set up in a new one",
                        ));
                    }
                    let fd = sys::fs::openat(None, path, libc::O_RDONLY, 0).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("cannot open {} namespace {}: {e}", ns.typ(), path.display()),
                        )
                    })?;
                    plan.joins.push(Join { typ: ns.typ(), fd, path: path.clone() });
                }
            }
        }
        plan.joins.sort_by_key(|j| j.typ != LinuxNamespaceType::User);
        Ok(plan)
    }

    pub fn creates(&self, t: LinuxNamespaceType) -> bool {
        self.new_flags & clone_flag(t) != 0
    }

    pub fn joins_type(&self, t: LinuxNamespaceType) -> bool {
        self.joins.iter().any(|j| j.typ == t)
    }

    /// Whether the init needs a bootstrap process. One clone3 with every CLONE_NEW* flag gives
    /// the right owners when nothing is joined. Joining a user, pid or time namespace, or
    /// joining anything while also creating a user namespace, needs the joins done first by an
    /// intermediate process, which then clones the init (the pid namespace only applies to
    /// children, and namespaces created after the user namespace must be owned by it).
    pub fn needs_bootstrap(&self) -> bool {
        let special = [LinuxNamespaceType::User, LinuxNamespaceType::Pid, LinuxNamespaceType::Time];
        self.joins.iter().any(|j| special.contains(&j.typ))
            || (self.creates(LinuxNamespaceType::User) && !self.joins.is_empty())
    }
}
