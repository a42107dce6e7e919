//! OCI seccomp profiles: translated into a stack of seccompiler filters by the runtime before it
//! clones the init, installed by the init as (nearly) the last step before execve.
//!
//! # From a profile to a stack of filters
//!
//! seccompiler compiles a filter with one match action and one mismatch action; a profile mixes
//! actions. scutum compiles it into a stack of filters that the kernel evaluates together:
//!
//! - the **base filter**: the guard (below), then every rule of every action with
//!   match = ALLOW and mismatch = `defaultAction`;
//! - one **rule filter** per distinct non-allow action *and data*: `SCMP_ACT_ERRNO` with
//!   errnoRet 1 and with errnoRet 13 are two filters, and so are two TRACE data values. Each
//!   holds that action's rules, with match = the action and mismatch = ALLOW.
//!
//! The kernel runs every filter of the stack and keeps the most restrictive result, in the
//! order KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW. A call
//! that matches no rule gets `defaultAction` from the base filter and ALLOW from every rule
//! filter; a call that matches some rule gets ALLOW from the base filter and, from each rule
//! filter, its action if one of its rules matched. Hence the semantics of a profile:
//!
//! - no rule matches: `defaultAction`;
//! - rules of one action match: that action, even when it is less restrictive than the default
//!   (a LOG rule under an ERRNO default logs and allows);
//! - rules of several actions match: the most restrictive of them. An ALLOW rule never
//!   overrides another rule that denies the same call (`mkdir` in an allowlist plus an ERRNO
//!   rule for `mkdir` fails with that errno);
//! - ERRNO (or TRACE) rules with different errnoRet match the same call: the rule that comes
//!   first in the profile decides. Its filter is installed last, and among equal actions the
//!   kernel keeps the result of the filter installed last. (One exception, see Installation.)
//!
//! # Translation rules
//!
//! - Names are looked up in the native table ([`table`], from libc's SYS_* constants); a name
//!   the architecture does not have is skipped and logged at debug level, as runc does.
//! - Conditions (`args`) of one rule must all hold (AND), including several conditions on the
//!   same argument (runc splits those into separate rules, i.e. ORs them; scutum does what the
//!   profile says). Arguments compare as 64-bit values; MASKED_EQ is
//!   `(arg & value) == valueTwo`. An index above 5 is refused.
//! - `errnoRet` defaults to EPERM for ERRNO (and is the data of TRACE); it is refused on an
//!   action that takes none, and above 4095 (MAX_ERRNO). `defaultErrnoRet` likewise.
//! - `SCMP_ACT_KILL` is KILL_THREAD, as in libseccomp.
//! - Not supported yet, refused with an error naming the field: `SCMP_ACT_NOTIFY`,
//!   `listenerPath`, `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
//! - Flags `SECCOMP_FILTER_FLAG_TSYNC`, `_LOG`, `_SPEC_ALLOW` apply to every filter of the stack.
//!
//! # The guard (deliberate hardening, first in the base filter)
//!
//! - Only the native calling convention passes. A syscall entering through another ABI (32-bit
//!   x86 `int 0x80`, x32 on x86_64, AArch32 on aarch64) kills the process: those entry points
//!   have a history of kernel bugs and containers do not need them. Docker and containerd allow
//!   x86 and x32 on x86_64; scutum does not. `architectures` in a profile is therefore ignored.
//! - When `defaultAction` denies (anything but ALLOW and LOG), a syscall numbered above every
//!   syscall the profile names fails with ENOSYS instead of the default: a libc that tries a
//!   syscall newer than the profile (clone3, faccessat2, ...) then falls back to the old one,
//!   where EPERM would have been reported as a hard error.
//!
//! # Installation
//!
//! The filters go in one seccomp(2) call each, so every call that installs a filter must be
//! allowed by the filters installed before it. The one filter that denies seccomp(2) itself (if
//! any) is installed last; a profile whose rules of two different actions both deny seccomp(2)
//! is refused. The init installs the stack after capabilities and the user are set, right
//! before execve; without `noNewPrivileges` the kernel requires CAP_SYS_ADMIN to install a
//! filter, so then it installs it before dropping capabilities (see [`crate::init`]).

mod arch;
mod eval;
mod stack;
mod table;

use oci_spec::runtime::LinuxSeccomp;

/// The default profile (allowlist, deny with EPERM). profiles/seccomp-default.md explains it.
const DEFAULT_PROFILE: &str = include_str!("../../profiles/seccomp-default.json");

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// A profile that cannot be translated; `field` is its JSON path in config.json.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("linux.seccomp: cannot compile the {filter} filter: {source}")]
    Compile { filter: String, source: seccompiler::BackendError },
    #[error("linux.seccomp: the {filter} filter has {len} instructions, more than the kernel's 4096")]
    TooLarge { filter: String, len: usize },
}

/// A compiled filter stack, ready to install.
pub struct Filter {
    /// Programs in install order.
    programs: Vec<Vec<libc::sock_filter>>,
    flags: libc::c_ulong,
}

impl Filter {
    /// The BPF programs in install order, for inspection (the fuzz targets check that the
    /// kernel would accept each of them).
    pub fn programs(&self) -> &[Vec<libc::sock_filter>] {
        &self.programs
    }

    /// Installs the stack on the calling thread. Allocates nothing: the profile may deny brk
    /// and mmap as soon as the first filter is in.
    pub fn install(&self) -> std::io::Result<()> {
        for p in &self.programs {
            crate::sys::seccomp::set_mode_filter(p, self.flags)?;
        }
        Ok(())
    }
}

/// Compiles `profile` for the native architecture.
pub fn compile(profile: &LinuxSeccomp) -> Result<Filter, SeccompError> {
    let stack::Compiled { programs, flags } = stack::compile(profile)?;
    let programs = programs
        .into_iter()
        .map(|p| {
            p.into_iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect()
        })
        .collect();
    Ok(Filter { programs, flags })
}

/// scutum's default profile, for a config that has none (profiles/seccomp-default.json).
pub fn default_profile() -> LinuxSeccomp {
    // The embedded profile is a constant of this build; a unit test parses and compiles it.
    serde_json::from_str(DEFAULT_PROFILE).expect("profiles/seccomp-default.json is a valid LinuxSeccomp")
}

/// The `linux.seccomp` object of `scutum features`: what this build really supports.
pub fn features() -> serde_json::Value {
    serde_json::json!({
        "enabled": true,
        "actions": [
            "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
        ],
        "operators": [
            "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
        ],
        "archs": [arch::OCI_NAME],
        "knownFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "supportedFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    })
}
