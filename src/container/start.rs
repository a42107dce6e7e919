//! `start`: open the exec fifo so the blocked init goes on to exec the user's program.

use super::create::hook_state;
use super::state::{Container, StateDir, FIFO_FILE};
use super::{ContainerError, Status};
use crate::error::{Error, Result};
use crate::hooks;
use crate::sys::{self, fs as sfs};
use std::os::fd::AsFd;
use std::path::Path;

/// Starts container `id`: only a `created` container can be started, once.
pub fn start(root: &Path, id: &str) -> Result<()> {
    let dir = StateDir::open(root, id)?;
    let mut c = Container::load(root, id)?;
    match c.status() {
        Status::Created => {}
        Status::Stopped => {
            return Err(ContainerError::WrongStatus {
                id: id.into(),
                status: Status::Stopped,
                what: "cannot start a container that has stopped",
            }
            .into())
        }
        s => {
            return Err(ContainerError::WrongStatus {
                id: id.into(),
                status: s,
                what: "only a created container can be started",
            }
            .into())
        }
    }
    let pidfd = c.pidfd().ok_or_else(|| ContainerError::NotRunning(id.into()))?;
    let fifo_path = dir.file(FIFO_FILE);
    // Non-blocking open for reading never waits; the init's blocked open for writing then
    // completes and it writes one byte.
    let fifo = sfs::openat(None, &fifo_path, libc::O_RDONLY | libc::O_NONBLOCK, 0)
        .map_err(|e| Error::host(format!("open {}", fifo_path.display()), e))?;
    let ready = sys::signal::poll_readable(&[fifo.as_fd(), pidfd.as_fd()], -1)
        .map_err(|e| Error::host("wait for the container init", e))?;
    let mut byte = [0u8; 1];
    let n = if ready[0] { sfs::read(&fifo, &mut byte).unwrap_or(0) } else { 0 };
    if n != 1 {
        return Err(Error::Usage(format!("container {id}: the init exited before it could start")));
    }
    // End of file: the init's execve closed its end, the user's program is running.
    let _ = sys::signal::poll_readable(&[fifo.as_fd()], -1);
    let _ = std::fs::remove_file(&fifo_path);
    c.state.status = Status::Running;
    dir.save(&c.state)?;
    if !c.state.poststart.is_empty() {
        hooks::run_all_warn("poststart", &c.state.poststart, &hook_state(&c.state, Status::Running));
    }
    Ok(())
}
