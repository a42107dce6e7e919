//! The typed messages init and parent exchange over their SOCK_SEQPACKET socketpair. Each
//! message is one packet of JSON; fds ride along as SCM_RIGHTS. A closed peer reads as EOF, so
//! a runtime killed mid-create makes its init exit instead of hanging.

use crate::sys::socket;
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsFd, OwnedFd};

/// init -> parent.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromInit {
    /// (bootstrap only) the process that must get the uid/gid maps exists.
    MapMe { pid: i32 },
    /// (bootstrap only) the real init was cloned; its pid in the runtime's pid namespace.
    Init { pid: i32 },
    /// Mounts are ready; run prestart and createRuntime hooks now.
    RunHooks,
    /// Set up and about to block on the exec fifo. With a terminal, the pty master rides along.
    Ready,
    /// Set-up failed; the message names the root cause.
    Error(String),
}

/// parent -> init.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromParent {
    /// uid/gid maps are written (or none were needed); `state` is the state JSON for hooks.
    Mapped { state: String },
    /// prestart/createRuntime hooks succeeded.
    HooksDone,
}

pub struct Channel {
    sock: OwnedFd,
}

const MAX_MSG: usize = 64 * 1024;

impl Channel {
    pub fn new(sock: OwnedFd) -> Self {
        Channel { sock }
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.sock)
    }

    /// A second handle on the same socket (for the init cloned by a bootstrap process).
    pub fn try_clone(&self) -> io::Result<Channel> {
        Ok(Channel { sock: self.sock.try_clone()? })
    }

    pub fn send<T: Serialize>(&self, msg: &T, fds: &[std::os::fd::BorrowedFd]) -> io::Result<()> {
        let data = serde_json::to_vec(msg).map_err(io::Error::other)?;
        socket::send_with_fds(self.sock.as_fd(), &data, fds)
    }

    /// Receives one message; `Ok(None)` means the peer closed the channel (it exited).
    pub fn recv<T: for<'de> Deserialize<'de>>(&self) -> io::Result<Option<(T, Vec<OwnedFd>)>> {
        let mut buf = vec![0u8; MAX_MSG];
        let (n, fds) = socket::recv_with_fds(self.sock.as_fd(), &mut buf, 1)?;
        if n == 0 {
            return Ok(None);
        }
        let msg = serde_json::from_slice(&buf[..n]).map_err(io::Error::other)?;
        Ok(Some((msg, fds)))
    }
}
