//! The last exec goes through a tiny helper in a sealed memfd when the container has no user
//! namespace of its own.
//!
//! The attack (CVE-2019-5736): until it calls execve, the container's init (and an `exec`'d
//! process) *is* the scutum binary, so /proc/self/exe points at it. An image whose program is a
//! script starting `#!/proc/self/exe` makes the kernel run the runtime's binary as a container
//! process; a second container process grabs /proc/<pid>/exe and, once it exits, opens the
//! binary for writing through that handle. Without a user namespace, container root is the
//! binary's owner, and the next `scutum` run on the host is the attacker's code. (Linux 6.18
//! refuses to exec a /proc/self/exe outside the caller's root; Debian 12's 6.1 does not.)
//!
//! The defence, without ever re-executing scutum: execve a 158-byte static helper from a
//! sealed memfd, which execs the real program. From then on /proc/self/exe is that memfd: it
//! cannot be written (sealed) and running it again only runs the helper. In a user namespace
//! container root owns nothing on the host and has no DAC override there, so the extra exec is
//! skipped.
//!
//! The helper, x86_64 (argv: [name, path, argv0, args...]):
//!
//! ```text
//!   mov rax, [rsp]              ; argc
//!   mov rdi, [rsp+16]           ; argv[1]: the program's path
//!   lea rsi, [rsp+24]           ; &argv[2]: the program's argv
//!   lea rdx, [rsp+rax*8+16]     ; envp, right after argv's NULL
//!   mov eax, 59                 ; execve
//!   syscall
//!   mov edi, 127                ; only reached if execve failed
//!   mov eax, 231                ; exit_group
//!   syscall
//! ```
//!
//! wrapped in a 64-byte ELF header and one 56-byte PT_LOAD program header (R+X at 0x400000).

use crate::sys;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

#[cfg(target_arch = "x86_64")]
const HELPER: [u8; 158] = [
    0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // e_ident
    0x02, 0x00, 0x3e, 0x00, 0x01, 0x00, 0x00, 0x00, // ET_EXEC, x86-64, version 1
    0x78, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, // e_entry 0x400078
    0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // e_phoff 64
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // e_shoff 0
    0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x38, 0x00, // e_flags, e_ehsize 64, e_phentsize 56
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // e_phnum 1, no sections
    0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, // PT_LOAD, R+X
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // p_offset 0
    0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, // p_vaddr 0x400000
    0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, // p_paddr
    0x9e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // p_filesz 158
    0x9e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // p_memsz 158
    0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // p_align 4096
    0x48, 0x8b, 0x04, 0x24, 0x48, 0x8b, 0x7c, 0x24, 0x10, 0x48, 0x8d, 0x74, 0x24, 0x18, 0x48,
    0x8d, // code
    0x54, 0xc4, 0x10, 0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x7f, 0x00, 0x00, 0x00, 0xb8, 0xe7,
    0x00, 0x00, 0x00, 0x0f, 0x05,
];

/// The sealed helper, or `None` on an architecture without one (the exec is then direct).
pub fn helper() -> io::Result<Option<OwnedFd>> {
    #[cfg(target_arch = "x86_64")]
    return sys::fs::sealed_memfd("exec-helper", &HELPER).map(Some);
    #[cfg(not(target_arch = "x86_64"))]
    return Ok(None);
}

/// execve of `exe` (argv, envp) through `helper`; returns only on failure.
pub fn exec_via(helper: &OwnedFd, exe: &CString, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut args = Vec::with_capacity(argv.len() + 2);
    args.push(CString::from(c"scutum-exec"));
    args.push(exe.clone());
    args.extend(argv.iter().cloned());
    sys::process::fexecve(helper.as_fd(), &args, envp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_helper_execs_its_first_argument_with_the_rest_as_argv() {
        let dir = std::env::temp_dir().join(format!("scutum-dmz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("helper");
        std::fs::write(&path, HELPER).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(&path)
            .args(["/bin/sh", "sh", "-c", "echo \"$0 $1 $FOO\"", "first"])
            .env("FOO", "bar")
            .output()
            .unwrap();
        // sh -c SCRIPT first: $0 is "first", $1 is empty.
        assert_eq!(String::from_utf8_lossy(&out.stdout), "first  bar\n");
        let st = std::process::Command::new(&path).args(["/nonexistent", "x"]).status().unwrap();
        assert_eq!(st.code(), Some(127));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_memfd_is_sealed_against_writes() {
        let Some(fd) = helper().unwrap() else { return };
        let p = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        // What an attacker holding /proc/<pid>/exe would try: truncate, or write over it.
        let e = std::fs::OpenOptions::new().write(true).truncate(true).open(&p).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
        let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        let e = std::io::Write::write_all(&mut f, b"#!/bin/sh\n").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
    }
}
