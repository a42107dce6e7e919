//! A process in the foreground (`run` and `exec` without --detach): signals are blocked before
//! it exists so none is lost, then forwarded to it; its terminal, if any, is proxied to ours;
//! and its exit status is returned (128+signal when killed).

use crate::error::{Error, Result};
use crate::sys::{self, process::Exit, signal::SigSet, tty};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Signals forwarded to the container's process (everything a shell or supervisor might send).
const FORWARDED: [i32; 14] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGCONT,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGPROF,
    libc::SIGVTALRM,
    libc::SIGPWR,
];

/// Blocks the forwarded signals (and SIGCHLD, SIGWINCH) in this process; the container's
/// process unblocks everything before execve. Returns the set for [`wait`].
pub fn block_signals() -> Result<SigSet> {
    let mut set = SigSet::empty();
    for s in FORWARDED.iter().chain(&[libc::SIGCHLD, libc::SIGWINCH]) {
        set.add(*s);
    }
    sys::signal::set_mask(&set).map_err(|e| Error::host("block signals", e))?;
    Ok(set)
}

/// Waits for the init, forwarding signals and copying terminal I/O.
pub fn wait(pidfd: &OwnedFd, set: &SigSet, master: Option<OwnedFd>) -> Result<Exit> {
    let sfd = sys::signal::signalfd(set).map_err(|e| Error::host("create a signalfd", e))?;
    let stdin = std::io::stdin();
    let stdin_fd = stdin.as_fd();
    let raw = match &master {
        Some(m) if tty::is_tty(stdin_fd) => {
            if let Ok((r, c)) = tty::get_size(stdin_fd) {
                let _ = tty::set_size(m.as_fd(), r, c);
            }
            tty::set_raw(stdin_fd).ok()
        }
        _ => None,
    };
    let result = pump(pidfd, &sfd, master.as_ref(), stdin_fd);
    if let Some(saved) = &raw {
        tty::restore(stdin_fd, saved);
    }
    result
}

fn pump(pidfd: &OwnedFd, sfd: &OwnedFd, master: Option<&OwnedFd>, stdin: BorrowedFd) -> Result<Exit> {
    let mut master_open = master.is_some();
    let mut stdin_open = master.is_some();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut fds = vec![pidfd.as_fd(), sfd.as_fd()];
        if let (true, Some(m)) = (master_open, master) {
            fds.push(m.as_fd());
        }
        if stdin_open {
            fds.push(stdin);
        }
        let ready =
            sys::signal::poll_readable(&fds, -1).map_err(|e| Error::host("wait for the container", e))?;
        if ready[1] {
            while let Ok(Some(sig)) = sys::signal::read_signal(sfd.as_fd()) {
                forward(pidfd, sig, master, stdin);
            }
        }
        if master_open && ready[2] {
            master_open = copy(master.expect("open").as_fd(), std::io::stdout().as_fd(), &mut buf);
        }
        let stdin_idx = if master_open { 3 } else { 2 };
        if stdin_open && ready.get(stdin_idx).copied().unwrap_or(false) {
            stdin_open = copy(stdin, master.expect("terminal").as_fd(), &mut buf);
        }
        if ready[0] {
            if let Some(m) = master.filter(|_| master_open) {
                // Drain what the container wrote before it exited.
                while sys::signal::poll_readable(&[m.as_fd()], 0).is_ok_and(|r| r[0]) {
                    if !copy(m.as_fd(), std::io::stdout().as_fd(), &mut buf) {
                        break;
                    }
                }
            }
            match sys::process::wait_pidfd(pidfd.as_fd(), false) {
                Ok(Some(exit)) => return Ok(exit),
                Ok(None) => continue,
                Err(e) => return Err(Error::host("reap the container init", e)),
            }
        }
    }
}

fn forward(pidfd: &OwnedFd, sig: i32, master: Option<&OwnedFd>, stdin: BorrowedFd) {
    match sig {
        libc::SIGCHLD => {}
        libc::SIGWINCH => {
            if let (Some(m), Ok((r, c))) = (master, tty::get_size(stdin)) {
                let _ = tty::set_size(m.as_fd(), r, c);
            }
        }
        _ => {
            let _ = sys::process::pidfd_send_signal(pidfd.as_fd(), sig);
        }
    }
}

/// Copies one read's worth from `from` to `to`; false at end of input (or a dead terminal).
fn copy(from: BorrowedFd, to: BorrowedFd, buf: &mut [u8]) -> bool {
    match sys::fs::read(from, buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => sys::fs::write_all(to, &buf[..n]).is_ok(),
    }
}
