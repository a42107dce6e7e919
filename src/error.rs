//! The error every command returns: one variant per module's error type, so `main` prints one
//! line that names the root cause. A bad config (spec, policy, rootfs config) reads differently
//! from a failing host (I/O, kernel).

use crate::{cgroups, console, container, hooks, policy, process, rootfs, seccomp, spec};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error(transparent)]
    Container(#[from] container::ContainerError),
    #[error(transparent)]
    Process(#[from] process::ProcessError),
    #[error(transparent)]
    Rootfs(#[from] rootfs::RootfsError),
    #[error(transparent)]
    Hook(#[from] hooks::HookError),
    #[error(transparent)]
    Seccomp(#[from] seccomp::SeccompError),
    #[error(transparent)]
    Console(#[from] console::ConsoleError),
    #[error(transparent)]
    Cgroup(#[from] cgroups::CgroupError),
    /// A command used in a way it cannot work (flags that contradict each other or the config).
    #[error("{0}")]
    Usage(String),
    /// A failing host call, with what we were doing.
    #[error("cannot {what}: {source}")]
    Host { what: String, source: std::io::Error },
}

impl Error {
    pub fn host(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Host { what: what.into(), source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
