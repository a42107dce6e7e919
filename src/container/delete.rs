//! `delete`: remove a stopped container; with force, kill it first. Runs poststop hooks.

use super::create::hook_state;
use super::state::{Container, StateDir, CONFIG_FILE};
use super::{ContainerError, Status};
use crate::error::Result;
use crate::sys;
use crate::{cgroups, hooks, spec};
use oci_spec::runtime::Spec;
use std::os::fd::AsFd;
use std::path::Path;

/// Deletes container `id`. `systemd` is the caller's --systemd-cgroup (how cgroupsPath reads,
/// needed only when state.json is unreadable).
pub fn delete(root: &Path, id: &str, force: bool, systemd: bool) -> Result<()> {
    let dir = StateDir::open(root, id)?;
    let c = match Container::load(root, id) {
        Ok(c) => c,
        // A create killed before it wrote state.json, or a state.json someone corrupted: only
        // --force cleans that up, from what else the state dir and the config tell.
        Err(ContainerError::NotExist(_)) | Err(ContainerError::Corrupt { .. }) if force => {
            recover(id, &dir, systemd);
            dir.remove()?;
            super::uidpool::release_all(root, id);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let status = c.status();
    if status != Status::Stopped {
        if !force {
            return Err(ContainerError::WrongStatus {
                id: id.into(),
                status,
                what: "cannot delete a container that is not stopped (use --force)",
            }
            .into());
        }
        kill_and_wait(&c);
    }
    let poststop = &c.state.poststop;
    // Kills what is left (a container without its own pid namespace can leave processes
    // behind its init) and removes the cgroup; the state stays if that fails, for a retry.
    if let Some(cg) = &c.state.cgroup {
        cgroups::remove(cg, c.state.cgroup_owned_parents)?;
    }
    dir.remove()?;
    if let Some(r) = &c.state.uid_range {
        super::uidpool::release(root, id, r);
    }
    if !poststop.is_empty() {
        hooks::run_all_warn("poststop", poststop, &hook_state(&c.state, Status::Stopped));
    }
    Ok(())
}

/// Without a usable state.json, the container's cgroup is found again from its effective
/// config (kept in the state dir) the way create placed it; killing everything in that cgroup
/// kills the container, wherever its init is.
fn recover(id: &str, dir: &StateDir, systemd: bool) {
    let Ok(spec) = spec::load_json::<Spec>(&dir.file(CONFIG_FILE)) else { return };
    let Ok(Some(h)) = cgroups::Hierarchy::detect(Path::new("/proc")) else { return };
    let cgroups_path = spec.linux().as_ref().and_then(|l| l.cgroups_path().as_ref()).and_then(|p| p.to_str());
    let Ok(loc) = cgroups::path::locate(cgroups_path, id, systemd, &h.own) else { return };
    let _ = cgroups::remove(&h.mount.join(&loc.rel), loc.owned_parent as u32);
}

/// SIGKILLs the container (its whole cgroup, else the init, which takes its pid namespace with
/// it) and waits until the init is gone.
pub fn kill_and_wait(c: &Container) {
    if let Some(cg) = &c.state.cgroup {
        let _ = cgroups::kill_all(cg);
    }
    let Some(pidfd) = c.pidfd() else {
        // No pidfd (a supervisor's seccomp filter, say) while /proc still shows our init by
        // its start time: kill(2) then, rather than leave a running container behind.
        if c.liveness() == super::Liveness::Alive {
            let _ = sys::process::kill(c.state.pid, libc::SIGKILL);
            for _ in 0..1000 {
                if c.liveness() != super::Liveness::Alive {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        return;
    };
    let _ = sys::process::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
    // A pidfd becomes readable when the process exits, whoever reaps it.
    let _ = sys::signal::poll_readable(&[pidfd.as_fd()], 10_000);
}
