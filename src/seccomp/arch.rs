//! The native architecture: its audit value, its syscall numbers by name, and how it spells
//! itself in seccompiler and in OCI profiles. Only the native calling convention is ever
//! allowed (see the module docs of [`super`]).

use super::table::SYSCALLS;
use seccompiler::TargetArch;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("scutum's seccomp support covers x86_64 and aarch64 only");

#[cfg(target_arch = "x86_64")]
mod native {
    pub const TARGET: seccompiler::TargetArch = seccompiler::TargetArch::x86_64;
    /// AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).
    pub const AUDIT_ARCH: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    pub const NAME: &str = "x86_64";
    pub const OCI_NAME: &str = "SCMP_ARCH_X86_64";
    pub const OCI_ARCH: oci_spec::runtime::Arch = oci_spec::runtime::Arch::ScmpArchX86_64;
    /// x32 syscalls enter with AUDIT_ARCH_X86_64 too, marked by this bit in the number.
    pub const X32_SYSCALL_BIT: Option<u32> = Some(0x4000_0000);
}

#[cfg(target_arch = "aarch64")]
mod native {
    pub const TARGET: seccompiler::TargetArch = seccompiler::TargetArch::aarch64;
    /// AUDIT_ARCH_AARCH64 (EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).
    pub const AUDIT_ARCH: u32 = 183 | 0x8000_0000 | 0x4000_0000;
    pub const NAME: &str = "aarch64";
    pub const OCI_NAME: &str = "SCMP_ARCH_AARCH64";
    pub const OCI_ARCH: oci_spec::runtime::Arch = oci_spec::runtime::Arch::ScmpArchAarch64;
    pub const X32_SYSCALL_BIT: Option<u32> = None;
}

pub const TARGET: TargetArch = native::TARGET;
pub const AUDIT_ARCH: u32 = native::AUDIT_ARCH;
pub const NAME: &str = native::NAME;
pub const OCI_NAME: &str = native::OCI_NAME;
pub const OCI_ARCH: oci_spec::runtime::Arch = native::OCI_ARCH;
pub const X32_SYSCALL_BIT: Option<u32> = native::X32_SYSCALL_BIT;

/// The native number of syscall `name`, if this architecture has it.
pub fn syscall_number(name: &str) -> Option<i64> {
    SYSCALLS.binary_search_by(|(n, _)| (*n).cmp(name)).ok().map(|i| SYSCALLS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(
            SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0),
            "table must be sorted by name, without duplicates"
        );
    }

    #[test]
    fn numbers_match_libc() {
        let known = [
            ("read", libc::SYS_read),
            ("write", libc::SYS_write),
            ("openat", libc::SYS_openat),
            ("execve", libc::SYS_execve),
            ("clone", libc::SYS_clone),
            ("clone3", libc::SYS_clone3),
            ("unshare", libc::SYS_unshare),
            ("mount", libc::SYS_mount),
            ("keyctl", libc::SYS_keyctl),
            ("ptrace", libc::SYS_ptrace),
            ("kexec_load", libc::SYS_kexec_load),
            ("open_by_handle_at", libc::SYS_open_by_handle_at),
            ("personality", libc::SYS_personality),
            ("socket", libc::SYS_socket),
            ("seccomp", libc::SYS_seccomp),
            ("mkdirat", libc::SYS_mkdirat),
            ("fchmodat2", libc::SYS_fchmodat2),
            ("mseal", libc::SYS_mseal),
        ];
        for (name, nr) in known {
            assert_eq!(syscall_number(name), Some(nr), "{name}");
        }
    }

    #[test]
    fn unknown_names_are_none() {
        assert_eq!(syscall_number("no_such_syscall"), None);
        assert_eq!(syscall_number(""), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_only_syscalls_are_known() {
        assert_eq!(syscall_number("arch_prctl"), Some(libc::SYS_arch_prctl));
        assert_eq!(syscall_number("open"), Some(libc::SYS_open));
    }
}
