//! Translation of an OCI `LinuxSeccomp` into a stack of seccompiler filters (the semantics are
//! described in the docs of [`super`]).

use super::{arch, eval, SeccompError};
use crate::log;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction as Oci, LinuxSeccompArg, LinuxSeccompFilterFlag as Flag,
    LinuxSeccompOperator as Op,
};
use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

/// The kernel's limit on the length of one filter (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;
/// Largest errno the kernel returns as is (MAX_ERRNO); larger values are clamped.
const MAX_ERRNO: u32 = 4095;

/// A filter action with its data, in the kernel's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    KillProcess,
    KillThread,
    Trap,
    Errno(u16),
    Trace(u16),
    Log,
    Allow,
}

impl Action {
    fn seccompiler(self) -> SeccompAction {
        match self {
            Action::KillProcess => SeccompAction::KillProcess,
            Action::KillThread => SeccompAction::KillThread,
            Action::Trap => SeccompAction::Trap,
            Action::Errno(e) => SeccompAction::Errno(e.into()),
            Action::Trace(d) => SeccompAction::Trace(d.into()),
            Action::Log => SeccompAction::Log,
            Action::Allow => SeccompAction::Allow,
        }
    }

    /// The SECCOMP_RET_* value a filter returns for this action.
    pub fn ret(self) -> u32 {
        self.seccompiler().into()
    }
}

/// The compiled profile: BPF programs in install order, and the seccomp(2) flags for each.
pub struct Compiled {
    pub programs: Vec<BpfProgram>,
    pub flags: libc::c_ulong,
}

/// Rules of one filter by syscall number: `None` matches the syscall whatever its arguments,
/// `Some(rules)` when any one of the rules matches.
type RuleMap = BTreeMap<i64, Option<Vec<SeccompRule>>>;

fn add(map: &mut RuleMap, nr: i64, rule: Option<&SeccompRule>) {
    let slot = map.entry(nr).or_insert_with(|| Some(Vec::new()));
    match (slot, rule) {
        (slot, None) => *slot = None,
        (Some(rules), Some(r)) => rules.push(r.clone()),
        // Already unconditional: a further condition adds nothing.
        (None, Some(_)) => {}
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> SeccompError {
    SeccompError::Invalid { field: field.into(), reason: reason.into() }
}

pub fn compile(p: &LinuxSeccomp) -> Result<Compiled, SeccompError> {
    if p.listener_path().is_some() {
        return Err(invalid("linux.seccomp.listenerPath", "seccomp notify listeners are not supported yet"));
    }
    let default = action(
        p.default_action(),
        p.default_errno_ret(),
        "linux.seccomp.defaultAction",
        "linux.seccomp.defaultErrnoRet",
    )?;
    let flags = flags(p.flags().as_deref().unwrap_or_default())?;
    for a in p.architectures().iter().flatten() {
        if !matches!(a, Arch::ScmpArchNative) && *a != arch::OCI_ARCH {
            log::debug(&format!(
                "linux.seccomp.architectures: {a} ignored: only the native {} calling convention is allowed",
                arch::NAME
            ));
        }
    }

    let mut base = RuleMap::new();
    // Non-allow actions in the order the profile first uses them.
    let mut by_action: Vec<(Action, RuleMap)> = Vec::new();
    let mut max_nr: Option<i64> = None;
    for (i, rule) in p.syscalls().iter().flatten().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        let act = action(
            rule.action(),
            rule.errno_ret(),
            &format!("{field}.action"),
            &format!("{field}.errnoRet"),
        )?;
        let conds = conditions(rule.args().as_deref().unwrap_or_default(), &field)?;
        let srule = if conds.is_empty() {
            None
        } else {
            Some(SeccompRule::new(conds).map_err(|e| invalid(format!("{field}.args"), e.to_string()))?)
        };
        let nrs: Vec<i64> = rule
            .names()
            .iter()
            .enumerate()
            .filter_map(|(j, name)| {
                let nr = arch::syscall_number(name);
                if nr.is_none() {
                    log::debug(&format!(
                        "{field}.names[{j}]: syscall {name:?} is unknown on {}, skipped",
                        arch::NAME
                    ));
                }
                nr
            })
            .collect();
        max_nr = max_nr.max(nrs.iter().copied().max());
        for &nr in &nrs {
            add(&mut base, nr, srule.as_ref());
        }
        if act == Action::Allow || nrs.is_empty() {
            continue;
        }
        let k = match by_action.iter().position(|(a, _)| *a == act) {
            Some(k) => k,
            None => {
                by_action.push((act, RuleMap::new()));
                by_action.len() - 1
            }
        };
        for &nr in &nrs {
            add(&mut by_action[k].1, nr, srule.as_ref());
        }
    }

    let mut programs = vec![base_program(default, base, max_nr)?];
    // The action the profile uses first is installed last: among results of equal precedence
    // the kernel keeps the last-installed filter's, so the first rule in the profile wins.
    for (act, rules) in by_action.into_iter().rev() {
        programs.push(seccompiler_program(rules, Action::Allow, act)?);
    }
    let programs = install_order(programs, flags)?;
    Ok(Compiled { programs, flags })
}

fn action(a: Oci, errno: Option<u32>, field: &str, errno_field: &str) -> Result<Action, SeccompError> {
    let data = |max: u32| -> Result<u16, SeccompError> {
        match errno.unwrap_or(libc::EPERM as u32) {
            e if e <= max => Ok(e as u16),
            e => Err(invalid(errno_field, format!("{e} is out of range (0 to {max})"))),
        }
    };
    let act = match a {
        Oci::ScmpActErrno => return Ok(Action::Errno(data(MAX_ERRNO)?)),
        Oci::ScmpActTrace => return Ok(Action::Trace(data(u16::MAX.into())?)),
        Oci::ScmpActNotify => {
            return Err(invalid(
                field,
                "SCMP_ACT_NOTIFY is not supported yet (no seccomp notify listener support)",
            ))
        }
        Oci::ScmpActAllow => Action::Allow,
        // libseccomp's SCMP_ACT_KILL kills the thread.
        Oci::ScmpActKill | Oci::ScmpActKillThread => Action::KillThread,
        Oci::ScmpActKillProcess => Action::KillProcess,
        Oci::ScmpActTrap => Action::Trap,
        Oci::ScmpActLog => Action::Log,
    };
    match errno {
        None => Ok(act),
        Some(_) => Err(invalid(
            errno_field,
            format!("{a} takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)"),
        )),
    }
}

/// The conditions of one rule, all of which must hold (AND). Arguments are compared as 64-bit
/// values, as libseccomp does on 64-bit architectures.
fn conditions(args: &[LinuxSeccompArg], field: &str) -> Result<Vec<SeccompCondition>, SeccompError> {
    let mut out = Vec::with_capacity(args.len());
    for (j, a) in args.iter().enumerate() {
        let f = format!("{field}.args[{j}]");
        let index = match u8::try_from(a.index()) {
            Ok(i) if i <= 5 => i,
            _ => {
                return Err(invalid(
                    format!("{f}.index"),
                    format!("{} is out of range: syscall arguments are numbered 0 to 5", a.index()),
                ))
            }
        };
        let (op, value) = match a.op() {
            Op::ScmpCmpNe => (SeccompCmpOp::Ne, a.value()),
            Op::ScmpCmpLt => (SeccompCmpOp::Lt, a.value()),
            Op::ScmpCmpLe => (SeccompCmpOp::Le, a.value()),
            Op::ScmpCmpEq => (SeccompCmpOp::Eq, a.value()),
            Op::ScmpCmpGe => (SeccompCmpOp::Ge, a.value()),
            Op::ScmpCmpGt => (SeccompCmpOp::Gt, a.value()),
            // (arg & value) == valueTwo, as libseccomp defines it.
            Op::ScmpCmpMaskedEq => (SeccompCmpOp::MaskedEq(a.value()), a.value_two().unwrap_or(0)),
        };
        out.push(
            SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value)
                .map_err(|e| invalid(f, e.to_string()))?,
        );
    }
    Ok(out)
}

fn flags(flags: &[Flag]) -> Result<libc::c_ulong, SeccompError> {
    let mut out = 0;
    for (i, f) in flags.iter().enumerate() {
        out |= match f {
            Flag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            Flag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            Flag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            Flag::SeccompFilterFlagWaitKillableRecv => {
                return Err(invalid(
                    format!("linux.seccomp.flags[{i}]"),
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV applies to seccomp notify, which is not supported yet",
                ))
            }
        };
    }
    Ok(out)
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGT_K: u16 = 0x25;
const JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;

/// The checks every container gets first, whatever its profile: a syscall made through another
/// calling convention (32-bit x86, x32, AArch32) kills the process, and with a denying default,
/// a syscall newer than any the profile names (number above `enosys_above`) fails with ENOSYS
/// so that libc falls back to an older one instead of seeing the default errno.
fn guard(enosys_above: Option<i64>) -> Vec<sock_filter> {
    let kill = libc::SECCOMP_RET_KILL_PROCESS;
    let mut p =
        vec![stmt(LD_W_ABS, 4), jump(JEQ_K, arch::AUDIT_ARCH, 1, 0), stmt(RET_K, kill), stmt(LD_W_ABS, 0)];
    if let Some(bit) = arch::X32_SYSCALL_BIT {
        // nr -1 (a syscall a tracer skipped, or a plain invalid call) is not an x32 call.
        p.push(jump(JEQ_K, u32::MAX, 2, 0));
        p.push(jump(JGE_K, bit, 0, 1));
        p.push(stmt(RET_K, kill));
    }
    if let Some(max) = enosys_above {
        p.push(jump(JGT_K, max as u32, 0, 1));
        p.push(stmt(RET_K, Action::Errno(libc::ENOSYS as u16).ret()));
    }
    p
}

/// The base filter: the guard, then every rule of every action with match = ALLOW and
/// mismatch = the default action.
fn base_program(default: Action, rules: RuleMap, max_nr: Option<i64>) -> Result<BpfProgram, SeccompError> {
    let denies = !matches!(default, Action::Allow | Action::Log);
    let mut prog = guard(max_nr.filter(|_| denies));
    if default == Action::Allow {
        prog.push(stmt(RET_K, Action::Allow.ret()));
    } else {
        prog.extend(seccompiler_program(rules, default, Action::Allow)?);
    }
    if prog.len() > MAX_INSNS {
        return Err(SeccompError::TooLarge { filter: "base".into(), len: prog.len() });
    }
    Ok(prog)
}

fn seccompiler_program(
    rules: RuleMap,
    mismatch: Action,
    on_match: Action,
) -> Result<BpfProgram, SeccompError> {
    let name = format!("{on_match:?}");
    let rules = rules.into_iter().map(|(nr, r)| (nr, r.unwrap_or_default())).collect();
    let compile_err = |source| SeccompError::Compile { filter: name.clone(), source };
    let filter = SeccompFilter::new(rules, mismatch.seccompiler(), on_match.seccompiler(), arch::TARGET)
        .map_err(compile_err)?;
    BpfProgram::try_from(filter).map_err(compile_err)
}

/// Orders the stack so that each seccomp(2) call that installs a filter is allowed by the
/// filters installed before it: a filter that denies that call goes last. The relative order
/// of the others is kept.
fn install_order(
    mut programs: Vec<BpfProgram>,
    flags: libc::c_ulong,
) -> Result<Vec<BpfProgram>, SeccompError> {
    let call = eval::SeccompData::new(
        arch::AUDIT_ARCH,
        libc::SYS_seccomp,
        [libc::SECCOMP_SET_MODE_FILTER.into(), flags, 0, 0, 0, 0],
    );
    let blocks = |p: &BpfProgram| eval::run(p, &call) != Some(libc::SECCOMP_RET_ALLOW);
    let blockers: Vec<usize> =
        programs.iter().enumerate().filter(|(_, p)| blocks(p)).map(|(i, _)| i).collect();
    match blockers[..] {
        [] => {}
        [i] => {
            let p = programs.remove(i);
            programs.push(p);
        }
        _ => return Err(invalid(
            "linux.seccomp.syscalls",
            "rules of more than one action deny seccomp(2) itself: scutum installs one filter per action, \
                 and the second could not be installed; deny seccomp(2) with a single action",
        )),
    }
    Ok(programs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::eval::{combine, run, SeccompData};
    use libc::{SECCOMP_RET_ALLOW as ALLOW, SECCOMP_RET_KILL_PROCESS as KILL_PROCESS};
    use serde_json::json;

    const LOG: u32 = libc::SECCOMP_RET_LOG;
    const TRAP: u32 = libc::SECCOMP_RET_TRAP;
    const KILL_THREAD: u32 = libc::SECCOMP_RET_KILL_THREAD;

    fn errno(e: i32) -> u32 {
        libc::SECCOMP_RET_ERRNO | e as u32
    }

    fn profile(v: serde_json::Value) -> LinuxSeccomp {
        serde_json::from_value(v).unwrap()
    }

    fn nr(name: &str) -> i64 {
        arch::syscall_number(name).unwrap_or_else(|| panic!("{name} unknown"))
    }

    /// What the kernel would answer for `nr(args)` under the compiled stack.
    fn verdict_nr(c: &Compiled, arch: u32, nr: i64, args: [u64; 6]) -> u32 {
        let data = SeccompData::new(arch, nr, args);
        let results: Vec<u32> =
            c.programs.iter().map(|p| run(p, &data).expect("program evaluates")).collect();
        combine(&results)
    }

    fn verdict(c: &Compiled, name: &str, args: &[u64]) -> u32 {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        verdict_nr(c, arch::AUDIT_ARCH, nr(name), a)
    }

    fn default_stack() -> Compiled {
        compile(&crate::seccomp::default_profile()).unwrap()
    }

    #[test]
    fn default_profile_allows_ordinary_workloads() {
        let c = default_stack();
        for name in [
            "read",
            "write",
            "openat",
            "close",
            "mmap",
            "brk",
            "execve",
            "wait4",
            "exit_group",
            "futex",
            "epoll_pwait",
            "accept4",
            "connect",
            "bind",
            "listen",
            "sendmsg",
            "recvmsg",
            "getdents64",
            "newfstatat",
            "statx",
            "rt_sigaction",
            "prctl",
            "capset",
            "setresuid",
            "setgroups",
            "seccomp",
            "getrandom",
            "io_setup",
            "chroot",
            "mkdirat",
            "fchmodat2",
            "rseq",
        ] {
            assert_eq!(verdict(&c, name, &[]), ALLOW, "{name}");
        }
        // fork-like clone, and threads (glibc falls back to clone when clone3 says ENOSYS).
        assert_eq!(verdict(&c, "clone", &[libc::SIGCHLD as u64]), ALLOW);
        let thread =
            libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD;
        assert_eq!(verdict(&c, "clone", &[thread as u64]), ALLOW);
        assert_eq!(verdict(&c, "unshare", &[libc::CLONE_FILES as u64]), ALLOW);
        for family in [libc::AF_UNIX, libc::AF_INET, libc::AF_INET6, libc::AF_NETLINK, libc::AF_PACKET] {
            assert_eq!(
                verdict(&c, "socket", &[family as u64, libc::SOCK_STREAM as u64]),
                ALLOW,
                "family {family}"
            );
        }
        for persona in [0u64, 0x8, 0x20000, 0x20008, 0xffff_ffff] {
            assert_eq!(verdict(&c, "personality", &[persona]), ALLOW, "persona {persona:#x}");
        }
    }

    #[test]
    fn default_profile_denies_escape_tools_with_eperm() {
        let c = default_stack();
        let mut denied = vec![
            "mount",
            "umount2",
            "pivot_root",
            "fsopen",
            "fsmount",
            "move_mount",
            "open_tree",
            "mount_setattr",
            "setns",
            "init_module",
            "finit_module",
            "delete_module",
            "keyctl",
            "add_key",
            "request_key",
            "bpf",
            "perf_event_open",
            "kexec_load",
            "kexec_file_load",
            "open_by_handle_at",
            "userfaultfd",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "kcmp",
            "pidfd_getfd",
            "settimeofday",
            "clock_settime",
            "clock_adjtime",
            "adjtimex",
            "reboot",
            "swapon",
            "swapoff",
            "acct",
            "syslog",
            "io_uring_setup",
            "quotactl",
            "fanotify_init",
            "lookup_dcookie",
        ];
        if cfg!(target_arch = "x86_64") {
            denied.extend(["iopl", "ioperm", "uselib", "_sysctl"]);
        }
        for name in denied {
            assert_eq!(verdict(&c, name, &[]), errno(libc::EPERM), "{name}");
        }
        for flag in [
            libc::CLONE_NEWNS,
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWCGROUP,
        ] {
            let f = (flag | libc::SIGCHLD) as u64;
            assert_eq!(verdict(&c, "clone", &[f]), errno(libc::EPERM), "clone {flag:#x}");
            assert_eq!(verdict(&c, "unshare", &[flag as u64]), errno(libc::EPERM), "unshare {flag:#x}");
        }
        assert_eq!(verdict(&c, "unshare", &[libc::CLONE_NEWTIME as u64]), errno(libc::EPERM));
        assert_eq!(verdict(&c, "clone3", &[]), errno(libc::ENOSYS));
        // ADDR_NO_RANDOMIZE turns off ASLR; READ_IMPLIES_EXEC makes every mapping executable.
        assert_eq!(verdict(&c, "personality", &[0x0040000]), errno(libc::EPERM));
        assert_eq!(verdict(&c, "personality", &[0x0400000]), errno(libc::EPERM));
        for family in [libc::AF_ALG, libc::AF_VSOCK] {
            assert_eq!(verdict(&c, "socket", &[family as u64]), errno(libc::EPERM), "family {family}");
            // The kernel reads the family as an int: junk in the upper half must not sneak past.
            assert_eq!(
                verdict(&c, "socket", &[family as u64 | 1 << 32]),
                errno(libc::EPERM),
                "family {family}"
            );
        }
    }

    #[test]
    fn default_profile_guards_new_syscalls_and_foreign_abis() {
        let c = default_stack();
        let highest = arch::syscall_number("file_setattr").unwrap();
        assert_eq!(verdict_nr(&c, arch::AUDIT_ARCH, highest + 1, [0; 6]), errno(libc::ENOSYS));
        assert_eq!(verdict_nr(&c, arch::AUDIT_ARCH, 1000, [0; 6]), errno(libc::ENOSYS));
        assert_eq!(verdict_nr(&c, arch::AUDIT_ARCH, -1, [0; 6]), errno(libc::ENOSYS));
        // A syscall the profile does not name, below the highest it names: the default.
        assert_eq!(verdict(&c, "listmount", &[]), errno(libc::EPERM));
        // 32-bit x86 (int 0x80) and AArch32 enter with another audit arch.
        for foreign in [0x4000_0003u32, 0x4000_0028] {
            assert_eq!(verdict_nr(&c, foreign, 0, [0; 6]), KILL_PROCESS);
        }
        if let Some(bit) = arch::X32_SYSCALL_BIT {
            assert_eq!(verdict_nr(&c, arch::AUDIT_ARCH, (bit as i64) | nr("read"), [0; 6]), KILL_PROCESS);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_name_in_the_default_profile_is_known_on_x86_64() {
        for rule in crate::seccomp::default_profile().syscalls().iter().flatten() {
            for name in rule.names() {
                assert!(arch::syscall_number(name).is_some(), "{name} is not an x86_64 syscall (typo?)");
            }
        }
    }

    /// A profile mixing every action, to check the stack against the documented semantics.
    fn mixed() -> Compiled {
        compile(&profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["read", "write", "mkdir", "getpid", "exit_group", "seccomp"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["chmod", "fchmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
                {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
                {"names": ["kill"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
                {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3},
                {"names": ["ptrace"], "action": "SCMP_ACT_TRAP"},
                {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
                {"names": ["tkill"], "action": "SCMP_ACT_KILL"},
                {"names": ["tgkill"], "action": "SCMP_ACT_KILL_THREAD"},
                {"names": ["tgkill"], "action": "SCMP_ACT_TRAP"}
            ]
        })))
        .unwrap()
    }

    #[test]
    fn stack_gives_the_documented_answer_for_every_mix_of_actions() {
        let c = mixed();
        let table: &[(&str, &[u64], u32)] = &[
            ("read", &[], ALLOW),
            ("openat", &[], errno(libc::EPERM)), // no rule: the default, EPERM when unset
            ("mkdir", &[], errno(13)),           // ALLOW and ERRNO rules: ERRNO wins
            ("chmod", &[], errno(13)),           // two errnos: the first rule's
            ("fchmod", &[], errno(5)),
            ("getpid", &[], LOG),    // LOG is less strict than the default, still chosen
            ("kill", &[], errno(3)), // ERRNO beats TRACE
            ("ptrace", &[0], TRAP),  // TRAP alone
            ("ptrace", &[16], KILL_PROCESS), // KILL_PROCESS beats TRAP
            ("tkill", &[], KILL_THREAD), // SCMP_ACT_KILL is KILL_THREAD
            ("tgkill", &[], KILL_THREAD), // KILL_THREAD beats TRAP
        ];
        for (name, args, want) in table {
            assert_eq!(verdict(&c, name, args), *want, "{name}{args:?}");
        }
        // base + ERRNO 13 + ERRNO 5 + LOG + TRACE 7 + ERRNO 3 + TRAP + KILL_PROCESS + KILL_THREAD
        assert_eq!(c.programs.len(), 9);
    }

    #[test]
    fn denylist_allows_everything_else_including_new_syscalls() {
        let c = compile(&profile(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO"}]
        })))
        .unwrap();
        assert_eq!(verdict(&c, "symlinkat", &[]), errno(libc::EPERM));
        assert_eq!(verdict(&c, "mkdirat", &[]), ALLOW);
        assert_eq!(verdict(&c, "mount", &[]), ALLOW);
        assert_eq!(verdict_nr(&c, arch::AUDIT_ARCH, 1000, [0; 6]), ALLOW);
        assert_eq!(verdict_nr(&c, 0x4000_0003, 0, [0; 6]), KILL_PROCESS);
    }

    /// Each operator, compiled by seccompiler, against its definition on 64-bit values.
    #[test]
    fn operators_compare_full_64_bit_values() {
        let values = [0u64, 1, 4, 5, 6, 0xffff_ffff, 1 << 32, (1 << 32) | 5, (1 << 32) | 6, u64::MAX];
        type Holds = fn(u64, u64) -> bool;
        let ops: [(&str, Holds); 6] = [
            ("SCMP_CMP_NE", |a, v| a != v),
            ("SCMP_CMP_LT", |a, v| a < v),
            ("SCMP_CMP_LE", |a, v| a <= v),
            ("SCMP_CMP_EQ", |a, v| a == v),
            ("SCMP_CMP_GE", |a, v| a >= v),
            ("SCMP_CMP_GT", |a, v| a > v),
        ];
        for (op, holds) in ops {
            for v in [5u64, (1 << 32) | 5] {
                let c = compile(&profile(json!({
                    "defaultAction": "SCMP_ACT_ERRNO",
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": v, "op": op}]}]
                })))
                .unwrap();
                for a in values {
                    let want = if holds(a, v) { ALLOW } else { errno(libc::EPERM) };
                    assert_eq!(verdict(&c, "read", &[0, 0, a]), want, "{op} arg {a:#x} value {v:#x}");
                }
            }
        }
        let c = compile(&profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                          "args": [{"index": 5, "value": 0xf0, "valueTwo": 0x30, "op": "SCMP_CMP_MASKED_EQ"}]}]
        })))
        .unwrap();
        for a in values.into_iter().chain([0x30, 0x3f, 0x1_0000_0030, 0x40]) {
            let want = if a & 0xf0 == 0x30 { ALLOW } else { errno(libc::EPERM) };
            assert_eq!(verdict(&c, "read", &[0, 0, 0, 0, 0, a]), want, "masked arg {a:#x}");
        }
    }

    #[test]
    fn conditions_of_one_rule_are_anded_and_rules_are_ored() {
        let c = compile(&profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 10, "op": "SCMP_CMP_GE"}, {"index": 0, "value": 20, "op": "SCMP_CMP_LT"}]},
                {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 100, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]}
            ]
        })))
        .unwrap();
        for (args, want) in [
            ([9u64, 0], errno(libc::EPERM)),
            ([10, 0], ALLOW),
            ([19, 0], ALLOW),
            ([20, 0], errno(libc::EPERM)),
            ([100, 1], ALLOW),
            ([100, 0], errno(libc::EPERM)),
        ] {
            assert_eq!(verdict(&c, "read", &args), want, "read{args:?}");
        }
    }

    #[test]
    fn unconditional_rule_wins_over_conditional_ones_for_the_same_syscall() {
        let c = compile(&profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"}
            ]
        })))
        .unwrap();
        assert_eq!(verdict(&c, "read", &[7]), ALLOW);
    }

    #[test]
    fn unknown_names_are_skipped() {
        let c = compile(&profile(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["no_such_syscall", "read"], "action": "SCMP_ACT_ALLOW"},
                         {"names": ["another_unknown"], "action": "SCMP_ACT_KILL_PROCESS"}]
        })))
        .unwrap();
        assert_eq!(verdict(&c, "read", &[]), ALLOW);
        assert_eq!(c.programs.len(), 1, "a rule with no known name adds no filter");
    }

    fn error_of(v: serde_json::Value) -> String {
        match compile(&profile(v)) {
            Ok(_) => panic!("profile compiled"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn invalid_profiles_name_the_field() {
        let e = error_of(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}));
        assert!(e.starts_with("linux.seccomp.syscalls[1].args[0].index: 6 is out of range"), "{e}");
        let e = error_of(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}));
        assert!(
            e.starts_with("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported yet"),
            "{e}"
        );
        let e = error_of(json!({"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/agent.sock"}));
        assert!(e.starts_with("linux.seccomp.listenerPath: "), "{e}");
        let e = error_of(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}));
        assert!(e.starts_with("linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW takes no errno"), "{e}");
        let e = error_of(json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}));
        assert!(e.starts_with("linux.seccomp.defaultErrnoRet: 5000 is out of range"), "{e}");
        let e = error_of(
            json!({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}),
        );
        assert!(e.starts_with("linux.seccomp.flags[0]: "), "{e}");
    }

    #[test]
    fn flags_translate_to_seccomp_filter_flags() {
        let c = compile(&profile(json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": [
            "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]})))
        .unwrap();
        assert_eq!(
            c.flags,
            libc::SECCOMP_FILTER_FLAG_TSYNC
                | libc::SECCOMP_FILTER_FLAG_LOG
                | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
        );
    }

    /// Installing filter k+1 is a seccomp(2) call that filters 0..=k must allow.
    fn assert_installable(c: &Compiled) {
        let call = [libc::SECCOMP_SET_MODE_FILTER as u64, c.flags, 0, 0, 0, 0];
        for k in 0..c.programs.len().saturating_sub(1) {
            let data = SeccompData::new(arch::AUDIT_ARCH, libc::SYS_seccomp, call);
            let r = combine(&c.programs[..=k].iter().map(|p| run(p, &data).unwrap()).collect::<Vec<_>>());
            assert_eq!(r, ALLOW, "filter {} could not be installed", k + 1);
        }
    }

    #[test]
    fn a_filter_that_denies_seccomp_itself_is_installed_last() {
        assert_installable(&default_stack());
        assert_installable(&mixed());
        // An allowlist without seccomp: the base filter denies it.
        let c = compile(&profile(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read", "fchmodat2"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["write"], "action": "SCMP_ACT_KILL_PROCESS"}]})))
        .unwrap();
        assert_installable(&c);
        assert_eq!(verdict(&c, "seccomp", &[1]), errno(libc::EPERM));
        // A denylist that denies seccomp with ERRNO 13 and other calls with ERRNO 13 and 1.
        let c = compile(&profile(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["seccomp", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO"}]})))
        .unwrap();
        assert_installable(&c);
        assert_eq!(verdict(&c, "seccomp", &[1]), errno(13));
        assert_eq!(verdict(&c, "chmod", &[]), errno(1));
    }

    #[test]
    fn two_actions_denying_seccomp_are_refused() {
        let e = error_of(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["seccomp"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["seccomp"], "action": "SCMP_ACT_LOG"}]}));
        assert!(e.contains("deny seccomp(2) itself"), "{e}");
    }
}
