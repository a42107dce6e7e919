//! poll(2) with a chosen event mask per fd: cgroup files such as `cgroup.events` and
//! `memory.events` signal a change with POLLPRI (kernfs_notify), which `poll_readable` in
//! `signal.rs` does not ask for.

use super::{check, retry};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

pub const POLLIN: i16 = libc::POLLIN;
pub const POLLPRI: i16 = libc::POLLPRI;

/// Waits up to `timeout_ms` (-1 = forever) for any of `fds` to report one of its events.
/// Returns each fd's `revents` (0 when nothing happened; POLLERR and POLLHUP may be set even
/// though they were not asked for).
pub fn poll(fds: &[(BorrowedFd, i16)], timeout_ms: i32) -> io::Result<Vec<i16>> {
    let mut p: Vec<libc::pollfd> =
        fds.iter().map(|(f, ev)| libc::pollfd { fd: f.as_raw_fd(), events: *ev, revents: 0 }).collect();
    retry(|| {
        // SAFETY: `p` is a valid array of pollfd of the length we pass.
        check(unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) })
    })?;
    Ok(p.iter().map(|x| x.revents).collect())
}
