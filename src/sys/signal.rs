//! Signal masks and signalfd, for `run` in the foreground: signals are blocked before the
//! container's init exists, so none is lost, and read back one at a time from a signalfd.

use super::{check, retry};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A set of signals (sigset_t).
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    pub fn empty() -> Self {
        let mut s = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given.
        unsafe { libc::sigemptyset(s.as_mut_ptr()) };
        // SAFETY: initialised just above.
        SigSet(unsafe { s.assume_init() })
    }

    pub fn all() -> Self {
        let mut s = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigfillset initialises the set it is given.
        unsafe { libc::sigfillset(s.as_mut_ptr()) };
        // SAFETY: initialised just above.
        SigSet(unsafe { s.assume_init() })
    }

    pub fn add(&mut self, sig: i32) {
        // SAFETY: `self.0` is an initialised set; an invalid signal number only yields EINVAL.
        unsafe { libc::sigaddset(&mut self.0, sig) };
    }
}

/// Sets the blocked-signal mask to `set`, returning the previous mask.
pub fn set_mask(set: &SigSet) -> io::Result<SigSet> {
    let mut old = SigSet::empty();
    // SAFETY: both sets are initialised sigset_t values.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &set.0, &mut old.0) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(old)
}

/// Resets every catchable signal to its default action (a child must not inherit handlers or
/// ignored signals from the runtime: SIGPIPE ignored by Rust's runtime would leak otherwise).
pub fn reset_dispositions() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL is always valid; errors for invalid numbers are ignored.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// A signalfd(2) for `set` (the signals must be blocked).
pub fn signalfd(set: &SigSet) -> io::Result<OwnedFd> {
    // SAFETY: `set` is an initialised sigset_t.
    let fd = check(unsafe { libc::signalfd(-1, &set.0, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) })?;
    // SAFETY: a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads one pending signal number from a signalfd, or `None` when there is none.
pub fn read_signal(fd: BorrowedFd) -> io::Result<Option<i32>> {
    let mut info = MaybeUninit::<libc::signalfd_siginfo>::zeroed();
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: `info` is writable storage of `size` bytes.
    let n = unsafe { libc::read(fd.as_raw_fd(), info.as_mut_ptr().cast(), size) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::WouldBlock { Ok(None) } else { Err(e) };
    }
    // SAFETY: zero-initialised and filled by read.
    Ok(Some(unsafe { info.assume_init() }.ssi_signo as i32))
}

/// poll(2) for readability on `fds`, waiting up to `timeout_ms` (-1 = forever). Returns, per fd,
/// whether it is readable or hung up.
pub fn poll_readable(fds: &[BorrowedFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut p: Vec<libc::pollfd> =
        fds.iter().map(|f| libc::pollfd { fd: f.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
    retry(|| {
        // SAFETY: `p` is a valid array of pollfd of the length we pass.
        check(unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) })
    })?;
    Ok(p.iter().map(|x| x.revents != 0).collect())
}
