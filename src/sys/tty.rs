//! Pseudo-terminals for `process.terminal`: allocated from the container's own devpts, the
//! peer opened with TIOCGPTPEER so no path is ever looked up for it (CVE-2025-52565).

use super::check;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Unlocks the pty master `master` and opens its peer (the slave) through the master itself.
pub fn open_peer(master: BorrowedFd) -> io::Result<OwnedFd> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from the pointer we pass.
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags as its argument and returns a new fd.
    let fd = check(unsafe {
        libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC)
    })?;
    // SAFETY: a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes the terminal `fd` the controlling terminal of this (session leader) process.
pub fn set_controlling(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) }).map(drop)
}

pub fn set_size(fd: BorrowedFd, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer we pass.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) }).map(drop)
}

/// True when `fd` is a terminal.
pub fn is_tty(fd: BorrowedFd) -> bool {
    // SAFETY: isatty only inspects the fd.
    unsafe { libc::isatty(fd.as_raw_fd()) == 1 }
}

/// Saved terminal settings, restored by [`restore`].
pub struct Saved(libc::termios);

/// Puts the terminal `fd` into raw mode (for proxying a container's pty), returning the old
/// settings.
pub fn set_raw(fd: BorrowedFd) -> io::Result<Saved> {
    let mut t = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: `t` is writable termios storage.
    check(unsafe { libc::tcgetattr(fd.as_raw_fd(), t.as_mut_ptr()) })?;
    // SAFETY: tcgetattr succeeded and filled `t`.
    let old = unsafe { t.assume_init() };
    let mut raw = old;
    // SAFETY: cfmakeraw only edits the struct it is given.
    unsafe { libc::cfmakeraw(&mut raw) };
    // SAFETY: `raw` is a valid termios.
    check(unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, &raw) })?;
    Ok(Saved(old))
}

pub fn restore(fd: BorrowedFd, saved: &Saved) {
    // SAFETY: `saved.0` is the valid termios tcgetattr gave us.
    unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, &saved.0) };
}

/// The window size of terminal `fd` as (rows, cols).
pub fn get_size(fd: BorrowedFd) -> io::Result<(u16, u16)> {
    let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one winsize to the pointer we pass.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) })?;
    Ok((ws.ws_row, ws.ws_col))
}
