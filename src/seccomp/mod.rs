//! OCI seccomp profiles. Not implemented yet: a config that asks for a seccomp filter is
//! refused with a clear error instead of running without one.

use oci_spec::runtime::LinuxSeccomp;

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("linux.seccomp: seccomp filters are not supported yet")]
    Unsupported,
}

/// A compiled filter, ready to install.
pub struct Filter;

impl Filter {
    pub fn install(&self) -> std::io::Result<()> {
        Err(std::io::Error::other("seccomp is not supported yet"))
    }
}

pub fn compile(_profile: &LinuxSeccomp) -> Result<Filter, SeccompError> {
    Err(SeccompError::Unsupported)
}

/// Whether this build can install seccomp filters.
pub fn supported() -> bool {
    false
}

/// scutum's default profile (not written yet; only called when [`supported`]).
pub fn default_profile() -> LinuxSeccomp {
    LinuxSeccomp::default()
}
