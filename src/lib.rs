//! scutum: a minimal, hardened OCI container runtime with runc's command line.
//!
//! The modules read in the order of a container's life: `cli` -> `commands` -> `spec` ->
//! `policy` -> `container` -> `process` -> `init` -> `rootfs` / `seccomp` / `cgroups`.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod caps;
pub mod cgroups;
pub mod cli;
pub mod commands;
pub mod console;
pub mod container;
pub mod error;
pub mod hooks;
pub mod init;
pub mod log;
pub mod policy;
pub mod process;
pub mod rlimits;
pub mod rootfs;
pub mod seccomp;
pub mod signals;
pub mod spec;
pub mod sys;

/// The runtime-spec version scutum implements.
pub const SPEC_VERSION: &str = "1.2.0";

/// `--version` output, three lines like runc's.
pub fn version_text() -> String {
    format!(
        "scutum version {}\ncommit: {}\nspec: {}\n",
        env!("CARGO_PKG_VERSION"),
        option_env!("SCUTUM_COMMIT").unwrap_or("unknown"),
        SPEC_VERSION
    )
}
