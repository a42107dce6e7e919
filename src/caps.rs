//! Linux capabilities: the name table (data) and applying the five sets of `process.
//! capabilities` to the init just before it becomes the user's program.

use crate::sys;
use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities};
use std::io;

/// Capability names as the runtime spec writes them, indexed by capability number.
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The "CAP_..." name of an oci-spec capability.
pub fn name(cap: &Capability) -> String {
    format!("CAP_{cap}")
}

/// The number of a capability, from its "CAP_..." name.
pub fn number(cap: &Capability) -> Option<u32> {
    let n = name(cap);
    NAMES.iter().position(|x| *x == n).map(|i| i as u32)
}

fn mask(set: &Option<Capabilities>) -> u64 {
    set.iter().flatten().filter_map(number).fold(0, |m, c| m | (1u64 << c))
}

/// The highest capability number the running kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(NAMES.len() as u32 - 1)
}

/// Drops every capability outside `caps.bounding` from the bounding set. Must run while we
/// still hold CAP_SETPCAP, i.e. before switching to the container user.
pub fn apply_bounding(caps: Option<&LinuxCapabilities>) -> io::Result<()> {
    let keep = caps.map_or(0, |c| mask(c.bounding()));
    for cap in 0..=last_cap() {
        if keep & (1 << cap) == 0 && sys::process::in_bounding_set(cap) {
            sys::process::drop_bounding_cap(cap).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot drop {} from the bounding set: {e}", cap_name(cap)))
            })?;
        }
    }
    Ok(())
}

/// Sets effective, permitted and inheritable in one capset, then raises the ambient ones.
pub fn apply_sets(caps: Option<&LinuxCapabilities>) -> io::Result<()> {
    let (e, p, i) =
        caps.map_or((0, 0, 0), |c| (mask(c.effective()), mask(c.permitted()), mask(c.inheritable())));
    sys::process::capset(e, p, i)
        .map_err(|err| io::Error::new(err.kind(), format!("cannot set capabilities: {err}")))?;
    // The kernel only allows ambient capabilities that are permitted and inheritable. runc
    // skips the others without a word (its default spec lists ambient caps but no inheritable
    // ones); we do the same here, and the policy reports them as an adjustment.
    let ambient = caps.map_or(0, |c| mask(c.ambient())) & p & i;
    for cap in (0..64).filter(|c| ambient & (1 << c) != 0) {
        sys::process::ambient_raise(cap)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot raise ambient {}: {e}", cap_name(cap))))?;
    }
    Ok(())
}

fn cap_name(cap: u32) -> &'static str {
    NAMES.get(cap as usize).copied().unwrap_or("an unknown capability")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_kernel_table() {
        assert_eq!(number(&Capability::Chown), Some(0));
        assert_eq!(number(&Capability::NetRaw), Some(13));
        assert_eq!(number(&Capability::SysAdmin), Some(21));
        assert_eq!(number(&Capability::CheckpointRestore), Some(40));
    }

    #[test]
    fn every_oci_spec_capability_has_a_number() {
        for n in NAMES {
            let c: Capability = serde_json::from_str(&format!("\"{n}\"")).unwrap();
            assert_eq!(name(&c), n);
        }
    }
}
