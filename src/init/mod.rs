//! What runs inside the new namespaces, from clone to execve, in this order:
//!
//! 1. wait until the parent has written uid/gid maps; become root of the user namespace;
//! 2. join the namespaces the config names by path (when no bootstrap did it already);
//! 3. hostname, domainname; a private procfs instance for our own /proc needs;
//! 4. the rootfs ([`crate::rootfs`]): mounts, /dev, hooks before pivot_root, pivot_root;
//! 5. sysctls (through the verified private procfs), the console, the cwd (created if missing,
//!    refused if it resolves through a /proc magic link), masks, read-only paths, read-only
//!    root; the program is looked up so a bad args[0] fails `create`, not `start`;
//! 6. tell the parent we are ready and block on the exec fifo until `start`;
//! 7. startContainer hooks; rlimits; bounding set; user and groups; capabilities; umask;
//!    no_new_privs; fds >= 3 (except preserved ones) close-on-exec; signal state reset;
//!    seccomp last (it could block the calls before it); execve. Without no_new_privs the
//!    seccomp filter goes in before the bounding set is dropped instead: installing it then
//!    takes CAP_SYS_ADMIN.
//!
//! The process is non-dumpable from clone to execve (inherited from the parent), so nothing in
//! the container can ptrace it or open its /proc/<pid>/exe, fds or memory (CVE-2016-9962,
//! CVE-2019-5736). It never holds a host directory fd or cwd when it execs: the only host fds
//! it receives are detached mounts, closed on exec like every fd of ours (CVE-2024-21626).

pub mod dmz;
mod exec;
pub mod join;

pub use exec::lookup_env;

use crate::process::namespaces::{clone_flag, NsPlan};
use crate::process::sync::{Channel, FromInit, FromParent};
use crate::rootfs::{self, masks, Prepared};
use crate::sys::{self, fs as sfs, mount as smount};
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

/// Everything the init needs, prepared by the parent before clone (the child gets a copy).
pub struct InitPlan<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a Prepared,
    /// O_PATH fd on `<state>/exec.fifo`.
    pub fifo: OwnedFd,
    pub preserve_fds: u32,
    pub no_pivot: bool,
    /// The init has a user namespace of its own (new, not joined).
    pub user_ns: bool,
    /// Compiled seccomp filter to install last, if any.
    pub seccomp: Option<crate::seccomp::Filter>,
}

/// What is left to do after the exec fifo opens.
struct Ready {
    proc: OwnedFd,
    /// The sealed exec helper, when the container has no user namespace ([`dmz`]).
    helper: Option<OwnedFd>,
    exe: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    state: String,
}

impl InitPlan<'_> {
    /// Every fd the init needs from the parent.
    fn fds(&self, ns: &NsPlan) -> Vec<RawFd> {
        let mut v = vec![self.fifo.as_raw_fd(), self.rootfs.root.as_raw_fd()];
        v.extend(self.rootfs.binds.iter().flatten().map(|b| b.tree.as_raw_fd()));
        v.extend(self.rootfs.host_devices.iter().map(|d| d.tree.as_raw_fd()));
        v.extend(ns.joins.iter().map(|j| j.fd.as_raw_fd()));
        v.extend(3..3 + self.preserve_fds as RawFd);
        v
    }
}

/// The init's entry point in the child. Never returns.
pub fn run(plan: &InitPlan, ns: &NsPlan, chan: Channel, joins_done: bool) -> ! {
    // Drop every inherited fd we do not need: the state-dir lock (which `start` must be able
    // to take), the caller's cwd, the host /proc, anything a caller leaked to us.
    let mut keep = plan.fds(ns);
    keep.push(chan.raw_fd());
    if let Err(e) = sfs::close_all_except(&keep) {
        let _ = chan.send(&FromInit::Error(format!("cannot close inherited fds: {e}")), &[]);
        sys::process::exit_now(1);
    }
    let ready = match setup(plan, ns, &chan, joins_done) {
        Ok(r) => r,
        Err(msg) => {
            let _ = chan.send(&FromInit::Error(msg), &[]);
            sys::process::exit_now(1);
        }
    };
    drop(chan);
    if let Err(msg) = wait_for_start(plan, &ready).and_then(|fifo| finish(plan, &ready, fifo)) {
        // After `create` returned there is no parent to report to: the container's stderr
        // is the only place a failure can still be seen.
        eprintln!("scutum: container init: {msg}");
        sys::process::exit_now(127);
    }
    unreachable!("finish returns only on error")
}

fn recv_parent(chan: &Channel) -> Result<FromParent, String> {
    match chan.recv::<FromParent>() {
        Ok(Some((m, _))) => Ok(m),
        Ok(None) => Err("the runtime exited during create".into()),
        Err(e) => Err(format!("sync with the runtime: {e}")),
    }
}

fn setup(plan: &InitPlan, ns: &NsPlan, chan: &Channel, joins_done: bool) -> Result<Ready, String> {
    let spec = plan.spec;
    // Modes of the files we create (devices 0666, dirs 0755) are exact; the process umask is
    // set again right before execve.
    sfs::umask(0);
    let FromParent::Mapped { state } = recv_parent(chan)? else {
        return Err("unexpected message from the runtime".into());
    };
    if plan.user_ns {
        sys::process::setresgid(0).map_err(|e| format!("cannot become gid 0 of the user namespace: {e}"))?;
        sys::process::setresuid(0).map_err(|e| format!("cannot become uid 0 of the user namespace: {e}"))?;
        sys::process::setgroups(&[]).map_err(|e| format!("cannot clear supplementary groups: {e}"))?;
    }
    if !joins_done {
        for j in &ns.joins {
            sys::process::setns(j.fd.as_fd(), clone_flag(j.typ))
                .map_err(|e| format!("cannot join {} namespace {}: {e}", j.typ, j.path.display()))?;
        }
    }
    if let Some(h) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        sys::process::sethostname(h).map_err(|e| format!("hostname: cannot set {h:?}: {e}"))?;
    }
    if let Some(d) = spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        sys::process::setdomainname(d).map_err(|e| format!("domainname: cannot set {d:?}: {e}"))?;
    }
    let proc = private_proc()?;

    let setup = rootfs::Setup {
        spec,
        prepared: plan.rootfs,
        user_ns: plan.user_ns,
        ipc_ns: ns.creates(LinuxNamespaceType::Ipc) || ns.joins_type(LinuxNamespaceType::Ipc),
        no_pivot: plan.no_pivot,
    };
    let mut before_pivot = || hooks_before_pivot(spec, chan, &state);
    let root = rootfs::setup(&setup, &mut before_pivot).map_err(|e| e.to_string())?;

    write_sysctls(spec, proc.as_fd())?;
    let process = spec.process().as_ref().expect("validated");
    let master = if process.terminal().unwrap_or(false) {
        Some(crate::console::setup(root.as_fd(), process).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let cwd = exec::enter_cwd(root.as_fd(), process.cwd())?;
    let linux = spec.linux().as_ref();
    masks::mask(root.as_fd(), linux.and_then(|l| l.masked_paths().as_deref()).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    masks::make_readonly(root.as_fd(), linux.and_then(|l| l.readonly_paths().as_deref()).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    if spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false) {
        masks::readonly_root(root.as_fd()).map_err(|e| e.to_string())?;
    }
    let env = exec::environment(root.as_fd(), process);
    let exe = exec::lookup(root.as_fd(), cwd.as_fd(), process.args().as_deref().unwrap_or_default(), &env)?;
    let argv = sys::process::cstrings(process.args().as_deref().unwrap_or_default())
        .map_err(|e| format!("process.args: {e}"))?;
    let envp = sys::process::cstrings(&env).map_err(|e| format!("process.env: {e}"))?;

    let fds: Vec<BorrowedFd> = master.iter().map(|m| m.as_fd()).collect();
    chan.send(&FromInit::Ready, &fds).map_err(|e| format!("sync with the runtime: {e}"))?;
    let helper = if plan.user_ns {
        None
    } else {
        dmz::helper().map_err(|e| format!("cannot create the exec helper: {e}"))?
    };
    Ok(Ready { proc, helper, exe, argv, envp, state })
}

/// A procfs instance of our own pid namespace, never attached anywhere: the container cannot
/// mount over it, so writes through it reach the kernel objects we mean (CVE-2025-52881).
fn private_proc() -> Result<OwnedFd, String> {
    let ctx = smount::FsContext::open("proc").map_err(|e| format!("cannot create a procfs instance: {e}"))?;
    let fd = ctx
        .mount(smount::MOUNT_ATTR_NOSUID | smount::MOUNT_ATTR_NODEV | smount::MOUNT_ATTR_NOEXEC)
        .map_err(|e| format!("cannot mount a procfs instance: {e}"))?;
    match sfs::is_procfs(fd.as_fd()) {
        Ok(true) => Ok(fd),
        _ => Err("the private procfs instance is not procfs".into()),
    }
}

/// prestart/createRuntime run in the parent (runtime namespaces), createContainer here (the
/// container's namespaces, before pivot_root), in that order.
fn hooks_before_pivot(spec: &Spec, chan: &Channel, state: &str) -> Result<(), String> {
    let Some(hooks) = spec.hooks().as_ref() else { return Ok(()) };
    #[allow(deprecated)]
    let parent_hooks = hooks.prestart().as_ref().is_some_and(|h| !h.is_empty())
        || hooks.create_runtime().as_ref().is_some_and(|h| !h.is_empty());
    if parent_hooks {
        chan.send(&FromInit::RunHooks, &[]).map_err(|e| format!("sync with the runtime: {e}"))?;
        match recv_parent(chan)? {
            FromParent::HooksDone => {}
            other => return Err(format!("unexpected message from the runtime: {other:?}")),
        }
    }
    let create_container = hooks.create_container().as_deref().unwrap_or_default();
    crate::hooks::run_all("createContainer", create_container, state).map_err(|e| e.to_string())
}

fn write_sysctls(spec: &Spec, proc: BorrowedFd) -> Result<(), String> {
    let Some(map) = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) else { return Ok(()) };
    for (key, value) in map {
        let rel = format!("sys/{}", key.replace('.', "/"));
        let how = sfs::RESOLVE_BENEATH | sfs::RESOLVE_NO_SYMLINKS | sfs::RESOLVE_NO_XDEV;
        let fd = sfs::openat2(proc, Path::new(&rel), libc::O_WRONLY | libc::O_TRUNC, 0, how)
            .map_err(|e| format!("linux.sysctl.{key}: cannot open /proc/{rel}: {e}"))?;
        sfs::write_all(&fd, value.as_bytes())
            .map_err(|e| format!("linux.sysctl.{key}: cannot write {value:?}: {e}"))?;
    }
    Ok(())
}

/// Blocks until `start` opens the exec fifo, then tells it we are going.
/// Blocks until `start` opens the exec fifo for reading; returns our (close-on-exec) write end.
fn wait_for_start(plan: &InitPlan, ready: &Ready) -> Result<OwnedFd, String> {
    sfs::reopen(ready.proc.as_fd(), plan.fifo.as_fd(), libc::O_WRONLY)
        .map_err(|e| format!("cannot open the exec fifo: {e}"))
}

/// From startContainer hooks to execve. Returns only on failure. `start` reads one byte from
/// the exec fifo once everything but seccomp is done, then waits for end-of-file, which comes
/// when execve closes `fifo`: so `start` returns (and runs poststart hooks) only after the
/// user's program is executing, as the runtime spec orders it.
fn finish(plan: &InitPlan, ready: &Ready, fifo: OwnedFd) -> Result<(), String> {
    let spec = plan.spec;
    let process = spec.process().as_ref().expect("validated");
    let start = spec.hooks().as_ref().and_then(|h| h.start_container().as_deref()).unwrap_or_default();
    crate::hooks::run_all("startContainer", start, &ready.state).map_err(|e| e.to_string())?;
    let tell_start = || sfs::write_all(&fifo, b"0").map_err(|e| format!("cannot write the exec fifo: {e}"));
    let program = (&ready.exe, ready.argv.as_slice(), ready.envp.as_slice());
    Err(exec::finish(
        process,
        plan.preserve_fds,
        plan.seccomp.as_ref(),
        program,
        ready.helper.as_ref(),
        tell_start,
    ))
}
