//! Thin safe wrappers over raw syscalls. ALL `unsafe` in scutum lives in this module tree; every
//! block carries a `// SAFETY:` line saying why it holds. Each wrapper returns `io::Result` with
//! the errno of the failing call; callers add the context (which path, which fd, why).

pub mod bpf;
pub mod fs;
pub mod mount;
pub mod poll;
pub mod process;
pub mod seccomp;
pub mod signal;
pub mod socket;
pub mod tty;

use std::ffi::{CString, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;

/// Turns a path or name into a C string; an interior NUL is an `InvalidInput` error instead of a
/// silent truncation (a hostile config could otherwise make us act on a different path).
pub fn cstr(s: impl AsRef<OsStr>) -> io::Result<CString> {
    CString::new(s.as_ref().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "contains a NUL byte"))
}

/// Maps a `-1` return of libc to the thread's errno.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Same as [`check`] for the `long` that `syscall(2)` returns.
fn check_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Retries a call interrupted by a signal.
fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
