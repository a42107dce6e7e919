//! The fuzz targets: arbitrary bytes into the code that reads what a bundle, a state directory
//! or a host operator hands the runtime. Each target must return normally for every input;
//! where the code promises more than "no panic", the target asserts it, so a broken promise is
//! a crash too.
//!
//! One file, two drivers: the cargo-fuzz binaries (fuzz/fuzz_targets/*.rs, libFuzzer, needs
//! `RUSTC_BOOTSTRAP=1` or nightly) and the stable replay-and-mutate test
//! (tests/fuzz_replay.rs), both of which include it with `#[path]`. It uses only scutum's
//! public API, so it needs no hook in the library and nothing of it ships in the binary.

#![allow(dead_code)] // each driver uses one target

use oci_spec::runtime::{LinuxNamespaceType, LinuxSeccomp, LinuxSeccompAction, Spec};
use scutum::container::State;
use scutum::policy::{self, Context, Evaluation, Policy};
use scutum::{seccomp, spec};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A fuzz target: arbitrary bytes in, a panic for a bug.
pub type Target = fn(&[u8]);

/// Every target by name; the name is also the corpus directory, fuzz/corpus/<name>/.
pub const TARGETS: &[(&str, Target)] =
    &[("config", config), ("seccomp", seccomp_profile), ("state", state), ("policy_file", policy_file)];

/// Error and finding text reaches stderr and the text log as one line: a newline taken from
/// the input would let a bundle forge log lines.
#[track_caller]
fn assert_one_line(what: &str, text: &str) {
    assert!(!text.contains(['\n', '\r']), "{what} is not one line: {text:?}");
}

/// Asserts that `got` serialises exactly like `want`, naming the first field that differs.
#[track_caller]
fn assert_same<T: serde::Serialize>(what: &str, want: &T, got: &T) {
    fn diff(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
        use serde_json::Value::{Array, Object};
        match (a, b) {
            (Object(x), Object(y)) => x.keys().chain(y.keys()).find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => diff(p, q, format!("{at}/{k}")),
                (p, q) => Some(format!("{at}/{k}: {p:?} became {q:?}")),
            }),
            // oci-spec keeps capability sets in a HashSet: their order is not data.
            (Array(x), Array(y)) if at.starts_with("/process/capabilities/") => {
                let sorted = |v: &Vec<serde_json::Value>| {
                    let mut s: Vec<String> = v.iter().map(|c| c.to_string()).collect();
                    s.sort();
                    s
                };
                (sorted(x) != sorted(y)).then(|| format!("{at}: {a} became {b}"))
            }
            (Array(x), Array(y)) if x.len() == y.len() => {
                x.iter().zip(y).enumerate().find_map(|(i, (p, q))| diff(p, q, format!("{at}/{i}")))
            }
            _ if a == b => None,
            _ => Some(format!("{at}: {a} became {b}")),
        }
    }
    let (a, b) = (serde_json::to_value(want).unwrap(), serde_json::to_value(got).unwrap());
    if let Some(d) = diff(&a, &b, String::new()) {
        panic!("{what} differs: {d}");
    }
}

/// FNV-1a: a cheap, stable hash to derive host facts from the input.
fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn presets() -> &'static [Policy; 3] {
    static P: OnceLock<[Policy; 3]> = OnceLock::new();
    P.get_or_init(|| {
        ["hardened", "baseline", "unconfined"].map(|n| Policy::preset(n).expect("built-in preset"))
    })
}

const NS_TYPES: [LinuxNamespaceType; 8] = [
    LinuxNamespaceType::Mount,
    LinuxNamespaceType::Cgroup,
    LinuxNamespaceType::Uts,
    LinuxNamespaceType::Ipc,
    LinuxNamespaceType::User,
    LinuxNamespaceType::Pid,
    LinuxNamespaceType::Network,
    LinuxNamespaceType::Time,
];

/// The host facts `policy::select::context` would gather, made up without I/O: each namespace
/// path the config names is, by a hash of the path, unreadable, the host's own namespace of
/// some type, or another namespace.
fn context(spec: &Spec, data: &[u8]) -> Context {
    let host: HashMap<_, _> =
        NS_TYPES.iter().enumerate().map(|(i, t)| (*t, (4, 0xf000_0000 + i as u64))).collect();
    let mut ns_paths = HashMap::new();
    for ns in spec.linux().as_ref().and_then(|l| l.namespaces().as_deref()).unwrap_or_default() {
        let Some(p) = ns.path() else { continue };
        let h = hash(p.as_os_str().as_encoded_bytes());
        let id = match h % 3 {
            0 => None,
            1 => Some(host[&NS_TYPES[(h / 3 % 8) as usize]]),
            _ => Some((4, h)),
        };
        ns_paths.insert(p.clone(), id);
    }
    Context {
        rootfs: spec::rootfs_path(spec, Path::new("/run/bundle")),
        host_namespaces: host,
        ns_paths,
        pids_enforceable: hash(data) & 1 == 0,
    }
}

/// config.json as `create` and `check` read it: parse, shape validation, then the policy
/// under each preset, then what create does with the result before its first side effect.
pub fn config(data: &[u8]) {
    let path = Path::new("config.json");
    let spec: Spec = match spec::parse_json(path, data) {
        Ok(s) => s,
        Err(e) => return assert_one_line("parse error", &e.to_string()),
    };
    if let Err(e) = spec::validate(&spec) {
        return assert_one_line("validation error", &e.to_string());
    }
    let ctx = context(&spec, data);
    for host in presets() {
        let eval = policy::evaluate(&spec, host, &ctx);
        check_evaluation(&spec, host, &eval);
    }
}

fn check_evaluation(original: &Spec, host: &Policy, eval: &Evaluation) {
    for f in &eval.findings {
        assert_one_line("finding", &f.line());
    }
    // The bundle can ask for a stricter policy, never a weaker one.
    let rank = |n: &str| ["unconfined", "baseline", "hardened"].iter().position(|p| *p == n);
    assert!(rank(&eval.policy) >= rank(&host.name), "{} loosened to {}", host.name, eval.policy);
    if eval.policy == "unconfined" {
        assert!(!eval.refused(), "unconfined refused: {}", eval.refusal_message());
    }
    if eval.refused() {
        return assert_one_line("refusal", &eval.refusal_message());
    }
    // create compiles the profile before its first side effect ...
    if let Some(p) = eval.spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        match seccomp::compile(p) {
            Ok(f) => check_programs(&f),
            Err(e) => assert_one_line("seccomp error", &e.to_string()),
        }
    }
    // ... and stores the effective config, which start, exec and delete read back.
    let stored = serde_json::to_vec(&eval.spec).expect("the effective config serialises");
    let back: Spec = spec::parse_json(Path::new("state/config.json"), &stored)
        .unwrap_or_else(|e| panic!("the stored effective config does not load: {e}"));
    assert_same("the stored effective config", &eval.spec, &back);
    if eval.policy != "unconfined" {
        assert_refusals_judge_what_the_runtime_does(&eval.spec);
    }
    if eval.policy == "hardened" {
        // The host's own hardened policy (with its overrides), or the preset a bundle asked for.
        let p = if host.name == eval.policy { host } else { &presets()[0] };
        assert_hardened(&eval.spec, p);
    }
    if eval.policy == "unconfined" && host.name == "unconfined" {
        assert_same("the config under the unconfined policy", original, &eval.spec);
    }
}

/// Whether a mount with these options ends up read-only, restated from mount semantics: later
/// options override earlier ones, and the recursive (`r`-prefixed) attributes are applied after
/// the mount's own.
fn mounted_readonly(options: &[String]) -> bool {
    let (mut own, mut rec) = (None, None);
    for o in options {
        match o.as_str() {
            "ro" => own = Some(true),
            "rw" => own = Some(false),
            "rro" => rec = Some(true),
            "rrw" => rec = Some(false),
            _ => {}
        }
    }
    rec.or(own).unwrap_or(false)
}

/// The refusal rules (hardened and baseline) must judge a config the way the runtime will act
/// on it, not by how its strings look: an accepted config has no writable sysfs or cgroupfs
/// (SCU-MNT-002) and no cwd or program under /proc (SCU-PROC-002), whatever the spelling.
fn assert_refusals_judge_what_the_runtime_does(s: &Spec) {
    for m in s.mounts().iter().flatten() {
        let typ = m.typ().as_deref().unwrap_or_default();
        let opts = m.options().as_deref().unwrap_or_default();
        if matches!(typ, "sysfs" | "cgroup" | "cgroup2") {
            assert!(mounted_readonly(opts), "{typ} accepted writable with options {opts:?}");
        }
    }
    let normalize = scutum::rootfs::resolve::normalize;
    if let Some(p) = s.process() {
        assert!(!normalize(p.cwd()).starts_with("proc"), "cwd {:?} accepted", p.cwd());
        if let Some(a0) = p.args().as_ref().and_then(|a| a.first()).filter(|a| a.starts_with('/')) {
            assert!(!normalize(Path::new(a0)).starts_with("proc"), "args[0] {a0:?} accepted");
        }
    }
}

/// What the hardened policy promises of every container it accepts (DESIGN.md §3).
fn assert_hardened(s: &Spec, p: &Policy) {
    let process = s.process().as_ref().expect("validated configs have a process");
    assert_eq!(process.no_new_privileges(), Some(true), "noNewPrivileges not forced");
    assert_eq!(s.root().as_ref().and_then(|r| r.readonly()), Some(true), "root not read-only");
    let linux = s.linux().as_ref().expect("hardened configs have a linux section");
    assert!(linux.seccomp().is_some(), "no seccomp profile");
    let ns = linux.namespaces().as_deref().unwrap_or_default();
    for t in [LinuxNamespaceType::User, LinuxNamespaceType::Cgroup] {
        assert!(ns.iter().any(|n| n.typ() == t), "no {t} namespace");
    }
    let masked = linux.masked_paths().as_deref().unwrap_or_default();
    for m in spec::defaults::MASKED_PATHS {
        assert!(masked.iter().any(|x| x == m), "{m} not masked");
    }
    if let Some(c) = process.capabilities() {
        let sets = [c.bounding(), c.effective(), c.inheritable(), c.permitted(), c.ambient()];
        for cap in sets.into_iter().flatten().flatten() {
            let n = scutum::caps::name(cap);
            let allowed = p.capability_ceiling.contains(&n) || p.allow_capabilities.contains(&n);
            assert!(allowed, "{n} above the capability ceiling");
        }
    }
}

/// The kernel's checks of a classic BPF seccomp program (bpf_check_classic and
/// seccomp_check_filter): 1 to 4096 instructions, only opcodes seccomp allows, loads inside
/// seccomp_data, jumps inside the program, and a return as the last instruction.
fn kernel_accepts(prog: &[libc::sock_filter]) -> Result<(), String> {
    if prog.is_empty() || prog.len() > 4096 {
        return Err(format!("{} instructions", prog.len()));
    }
    for (pc, i) in prog.iter().enumerate() {
        let rest = prog.len() - pc - 1;
        let ok = match i.code {
            0x20 => i.k < 64 && i.k % 4 == 0,  // ld [k]
            0x06 => true,                      // ret #k
            0x54 | 0x44 | 0x74 | 0x64 => true, // and, or, rsh, lsh #k
            0x05 => (i.k as usize) < rest,     // ja
            0x15 | 0x25 | 0x35 | 0x45 => (i.jt as usize) < rest && (i.jf as usize) < rest,
            _ => false,
        };
        if !ok {
            return Err(format!("instruction {pc} {:#x} k={} jt={} jf={}", i.code, i.k, i.jt, i.jf));
        }
    }
    match prog.last() {
        Some(i) if i.code == 0x06 => Ok(()),
        _ => Err("the last instruction is not a return".into()),
    }
}

/// Runs a program the way the kernel would (only what [`kernel_accepts`] lets through).
fn run(prog: &[libc::sock_filter], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
    let word = |off: u32| -> u32 {
        match off {
            0 => nr,
            4 => arch,
            8 | 12 => 0,
            _ => {
                let a = args[((off - 16) / 8) as usize];
                if off % 8 == 0 {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
        }
    };
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let i = prog[pc];
        pc += 1;
        let jump = |t: bool| if t { i.jt as usize } else { i.jf as usize };
        match i.code {
            0x20 => a = word(i.k),
            0x54 => a &= i.k,
            0x44 => a |= i.k,
            0x74 => a = a.checked_shr(i.k).unwrap_or(0),
            0x64 => a = a.checked_shl(i.k).unwrap_or(0),
            0x05 => pc += i.k as usize,
            0x15 => pc += jump(a == i.k),
            0x25 => pc += jump(a > i.k),
            0x35 => pc += jump(a >= i.k),
            0x45 => pc += jump(a & i.k != 0),
            _ => return i.k, // 0x06, ret
        }
    }
}

/// The kernel's verdict for a stack (filters in install order): the most restrictive action
/// wins (KILL_PROCESS is the only negative one); on a tie the filter installed last wins.
fn verdict(progs: &[Vec<libc::sock_filter>], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
    let mut ret = libc::SECCOMP_RET_ALLOW;
    for p in progs.iter().rev() {
        let cur = run(p, nr, arch, args);
        if ((cur & libc::SECCOMP_RET_ACTION_FULL) as i32) < ((ret & libc::SECCOMP_RET_ACTION_FULL) as i32) {
            ret = cur;
        }
    }
    ret
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 62 | 0x8000_0000 | 0x4000_0000;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 183 | 0x8000_0000 | 0x4000_0000;

/// What every compiled stack must do whatever the profile: each program loads in the kernel,
/// each seccomp(2) call that installs the next filter is allowed by those already in, and a
/// syscall through another architecture's calling convention kills the process.
fn check_programs(f: &seccomp::Filter) {
    let progs = f.programs();
    assert!(!progs.is_empty(), "an empty stack");
    for (k, p) in progs.iter().enumerate() {
        if let Err(e) = kernel_accepts(p) {
            panic!("filter {k} would be refused by the kernel: {e}");
        }
    }
    let install = [libc::SECCOMP_SET_MODE_FILTER as u64, 0, 0, 0, 0, 0];
    for k in 1..progs.len() {
        for flags in [0, libc::SECCOMP_FILTER_FLAG_TSYNC | libc::SECCOMP_FILTER_FLAG_LOG] {
            let mut args = install;
            args[1] = flags;
            let r = verdict(&progs[..k], libc::SYS_seccomp as u32, AUDIT_ARCH, args);
            assert_eq!(r, libc::SECCOMP_RET_ALLOW, "filters 0..{k} deny installing filter {k}");
        }
    }
    let kill = libc::SECCOMP_RET_KILL_PROCESS;
    assert_eq!(verdict(progs, 0, 0x4000_0003, [0; 6]), kill, "a 32-bit x86 syscall passes");
    if cfg!(target_arch = "x86_64") {
        assert_eq!(verdict(progs, 0x4000_0000, AUDIT_ARCH, [0; 6]), kill, "an x32 syscall passes");
    }
}

/// The SECCOMP_RET_* value of a profile's defaultAction.
fn default_ret(p: &LinuxSeccomp) -> u32 {
    let errno = p.default_errno_ret().unwrap_or(libc::EPERM as u32);
    match p.default_action() {
        LinuxSeccompAction::ScmpActAllow => libc::SECCOMP_RET_ALLOW,
        LinuxSeccompAction::ScmpActLog => libc::SECCOMP_RET_LOG,
        LinuxSeccompAction::ScmpActErrno => libc::SECCOMP_RET_ERRNO | errno,
        LinuxSeccompAction::ScmpActTrace => libc::SECCOMP_RET_TRACE | errno,
        LinuxSeccompAction::ScmpActTrap => libc::SECCOMP_RET_TRAP,
        LinuxSeccompAction::ScmpActKillProcess => libc::SECCOMP_RET_KILL_PROCESS,
        _ => libc::SECCOMP_RET_KILL_THREAD,
    }
}

/// A `linux.seccomp` object as create translates it.
pub fn seccomp_profile(data: &[u8]) {
    let Ok(p) = spec::parse_json::<LinuxSeccomp>(Path::new("seccomp.json"), data) else { return };
    let f = match seccomp::compile(&p) {
        Ok(f) => f,
        Err(e) => return assert_one_line("seccomp error", &e.to_string()),
    };
    check_programs(&f);
    // A syscall number no profile names (below the x32 bit, above every real syscall) gets
    // defaultAction, or ENOSYS from the guard when the default denies.
    let r = verdict(f.programs(), 0x3fff_fff0, AUDIT_ARCH, [0; 6]);
    let denies =
        !matches!(p.default_action(), LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog);
    let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    assert!(r == default_ret(&p) || (denies && r == enosys), "unnamed syscall got {r:#x}");
    // Dropping every rule of a profile that compiles leaves one that compiles, and
    // defaultAction ERRNO with no rules always compiles.
    let mut bare = p.clone();
    bare.set_syscalls(None);
    check_programs(&seccomp::compile(&bare).expect("the profile without its rules compiles"));
    bare.set_default_action(LinuxSeccompAction::ScmpActErrno).set_default_errno_ret(None);
    check_programs(&seccomp::compile(&bare).expect("an ERRNO default without rules compiles"));
}

/// `<root>/<id>/state.json` as state, list, start, kill and delete read it.
pub fn state(data: &[u8]) {
    let path = Path::new("/run/scutum/fuzz/state.json");
    let s = match State::parse(path, "fuzz", data) {
        Ok(s) => s,
        Err(e) => return assert_one_line("state error", &e.to_string()),
    };
    assert_eq!(s.id, "fuzz");
    // A state that loads is saved again by start: it must serialise, and read back the same.
    let bytes = serde_json::to_vec(&s).expect("a loaded state serialises");
    let again = State::parse(path, "fuzz", &bytes).expect("a saved state loads");
    assert_same("the saved state", &s, &again);
}

/// A host policy file (`--policy FILE`, `<root>/policy.json`, /etc/scutum/policy.json).
pub fn policy_file(data: &[u8]) {
    let p = match Policy::from_file(Path::new("/etc/scutum/policy.json"), data) {
        Ok(p) => p,
        Err(e) => return assert_one_line("policy error", &e.to_string()),
    };
    assert!(presets().iter().any(|x| x.name == p.name), "unknown preset {:?}", p.name);
    let pool = &p.uid_pool;
    assert!(
        pool.start > 0
            && pool.size >= 65536
            && pool.start.checked_add(pool.size).is_some_and(|e| e <= 1 << 32)
    );
    assert!(p.allow_bind_sources.iter().all(|s| s.starts_with('/')));
    // The policy then judges configs: the ones containerd's CRI plugin and ctr write.
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        [
            include_str!("../tests/fixtures/cri-pod-container.json"),
            include_str!("../tests/fixtures/ctr-run.json"),
        ]
        .map(|t| serde_json::from_str(t).expect("test fixtures parse"))
        .into()
    });
    for spec in specs {
        let ctx = Context { rootfs: PathBuf::from("/run/bundle/rootfs"), ..Default::default() };
        check_evaluation(spec, &p, &policy::evaluate(spec, &p, &ctx));
    }
}
