//! cgroup v2. Not implemented yet: a config asking for resource limits is refused with a clear
//! error rather than run without them (a limit that is not enforced is worse than none).

use crate::error::{Error, Result};
use oci_spec::runtime::Spec;

/// Refuses any `linux.resources` limit; device rules that only deny are accepted.
pub fn check_unsupported(spec: &Spec) -> Result<()> {
    let Some(r) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) else { return Ok(()) };
    let fields = [
        ("memory", r.memory().is_some()),
        ("cpu", r.cpu().is_some()),
        ("pids", r.pids().is_some()),
        ("blockIO", r.block_io().is_some()),
        ("hugepageLimits", r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty())),
        ("network", r.network().is_some()),
        ("rdma", r.rdma().as_ref().is_some_and(|h| !h.is_empty())),
        ("unified", r.unified().as_ref().is_some_and(|h| !h.is_empty())),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, set)| *set) {
        return Err(Error::Usage(format!("linux.resources.{name}: cgroup limits are not supported yet")));
    }
    if r.devices().iter().flatten().any(|d| d.allow()) {
        return Err(Error::Usage(
            "linux.resources.devices: allow rules need the cgroup device controller (not supported yet)"
                .into(),
        ));
    }
    Ok(())
}

/// Whether a pids limit would be enforced on this host (the policy's default pids limit is
/// only applied then). Not until cgroup support lands.
pub fn pids_enforceable() -> bool {
    false
}
