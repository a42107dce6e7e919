//! seccomp(2): installing a classic-BPF filter on the calling thread.

use super::check_long;
use std::io;

/// `SECCOMP_SET_MODE_FILTER` with `flags` (SECCOMP_FILTER_FLAG_*) for `prog`.
///
/// Without no_new_privs the caller needs CAP_SYS_ADMIN in its user namespace (EACCES
/// otherwise). The kernel verifies the program (length, opcodes, jump targets) and refuses a
/// malformed one with EINVAL.
pub fn set_mode_filter(prog: &[libc::sock_filter], flags: libc::c_ulong) -> io::Result<()> {
    let len = u16::try_from(prog.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let fprog = libc::sock_fprog { len, filter: prog.as_ptr() as *mut libc::sock_filter };
    // SAFETY: `fprog` points at `len` initialised instructions that outlive the call; the kernel
    // copies the program and never writes through the pointer.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            flags,
            &fprog as *const libc::sock_fprog,
        )
    })
    .map(drop)
}
