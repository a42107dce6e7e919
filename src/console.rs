//! `process.terminal`: a pty from the container's *own* devpts, opened after pivot_root. The
//! peer is opened from the master with TIOCGPTPEER, so no path lookup can hand us another
//! file, and /dev/console is a bind of exactly that verified peer (CVE-2025-52565). The master
//! goes to the parent, which passes it to the --console-socket.

use crate::rootfs::resolve::{self, Kind};
use crate::sys::{fs as sfs, mount as smount, process as sproc, tty};
use oci_spec::runtime::Process;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("console: cannot {what}: {source}")]
    Io { what: &'static str, source: std::io::Error },
    #[error("console: /dev/pts/ptmx is not on the container's devpts")]
    NotDevpts,
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> ConsoleError {
    move |source| ConsoleError::Io { what, source }
}

/// Allocates the pty, binds its peer to /dev/console, makes it the init's controlling terminal
/// and stdio, and returns the master.
pub fn setup(root: BorrowedFd, p: &Process) -> Result<OwnedFd, ConsoleError> {
    let how = sfs::RESOLVE_BENEATH | sfs::RESOLVE_NO_SYMLINKS | sfs::RESOLVE_NO_MAGICLINKS;
    let master = sfs::openat2(root, Path::new("dev/pts/ptmx"), libc::O_RDWR | libc::O_NOCTTY, 0, how)
        .map_err(io("open /dev/pts/ptmx"))?;
    if sfs::fs_magic(master.as_fd()).map_err(io("statfs /dev/pts/ptmx"))? != sfs::DEVPTS_SUPER_MAGIC {
        return Err(ConsoleError::NotDevpts);
    }
    let peer = tty::open_peer(master.as_fd()).map_err(io("open the pty peer"))?;
    if let Some(size) = p.console_size() {
        tty::set_size(peer.as_fd(), size.height() as u16, size.width() as u16)
            .map_err(io("set the terminal size"))?;
    }
    sfs::fchown(peer.as_fd(), p.user().uid(), p.user().gid())
        .map_err(io("hand the terminal to the container user"))?;
    let console =
        resolve::create(root, Path::new("/dev/console"), Kind::File).map_err(io("create /dev/console"))?;
    let bind =
        smount::open_tree_fd(peer.as_fd(), smount::OPEN_TREE_CLONE).map_err(io("clone the pty peer"))?;
    smount::move_mount(bind.as_fd(), console.as_fd()).map_err(io("bind /dev/console"))?;
    sproc::setsid().map_err(io("start a session"))?;
    tty::set_controlling(peer.as_fd()).map_err(io("set the controlling terminal"))?;
    for fd in 0..3 {
        sfs::dup2(peer.as_fd(), fd).map_err(io("attach stdio to the terminal"))?;
    }
    if peer.as_raw_fd() < 3 {
        std::mem::forget(peer);
    }
    Ok(master)
}
