//! bpf(2) for cgroup device filters: load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it
//! to a cgroup directory fd. The program itself is built (and unit-tested) in
//! `cgroups::devices`; this file only hands bytes to the kernel.

use super::check_long;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs may be attached to one cgroup and to its ancestors; all of them must allow
/// an access (what systemd and runc use, so neither locks the other out).
const BPF_F_ALLOW_MULTI: u32 = 2;

/// One eBPF instruction (`struct bpf_insn`): opcode, dst/src registers in one byte, offset,
/// immediate.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// The BPF_PROG_LOAD part of `union bpf_attr`, up to `expected_attach_type`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The BPF_PROG_ATTACH part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, correctly laid out prefix of `union bpf_attr` for `cmd`, and we
    // pass its exact size; the kernel zero-extends the rest. Pointers inside it (instructions,
    // license, log buffer) are kept alive by the callers for the duration of the call.
    check_long(unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) })
}

/// Loads a cgroup device program. On a verifier rejection the error carries the last line of
/// the verifier's log.
pub fn load_device_program(insns: &[Insn], name: &str) -> io::Result<OwnedFd> {
    let license = c"Apache-2.0";
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    for (d, s) in attr.prog_name.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    let fd = match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::EACCES) => {
            // Load again with the verifier log, only to explain the failure.
            let mut log = vec![0u8; 64 * 1024];
            attr.log_level = 1;
            attr.log_size = log.len() as u32;
            attr.log_buf = log.as_mut_ptr() as u64;
            let again = bpf(BPF_PROG_LOAD, &mut attr);
            if let Ok(fd) = again {
                // SAFETY: the kernel returned a new fd that only we own.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
            }
            let text = String::from_utf8_lossy(&log[..log.iter().position(|&b| b == 0).unwrap_or(0)]);
            let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            return Err(io::Error::new(e.kind(), format!("{e} (verifier: {last})")));
        }
        Err(e) => return Err(e),
    };
    // SAFETY: the kernel returned a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Attaches `prog` to the cgroup behind `cgroup_dir` as a device filter (BPF_F_ALLOW_MULTI).
/// The attachment holds its own reference: closing `prog` afterwards keeps it in force for as
/// long as the cgroup exists.
pub fn attach_device_program(cgroup_dir: BorrowedFd, prog: BorrowedFd) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: cgroup_dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map(drop)
}
