//! Process creation and control: clone3 into namespaces and a cgroup, pidfds, waiting,
//! credentials, prctl knobs, namespaces, execve.

use super::{check, check_long, cstr, retry};
use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` of clone3(2), version 2 (with `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// What clone3 returned on each side of the fork.
pub enum Forked {
    /// In the parent: the child's pid (in our pid namespace) and, with CLONE_PIDFD, its pidfd.
    Parent {
        pid: i32,
        pidfd: Option<OwnedFd>,
    },
    Child,
}

/// clone3(2) without a new stack: fork semantics, plus namespace flags (CLONE_NEW*), a pidfd
/// (CLONE_PIDFD) and placement straight into a cgroup (CLONE_INTO_CGROUP with `cgroup`), so the
/// child is never observable outside its namespaces or cgroup.
///
/// The caller must be single-threaded: scutum never starts threads, which is what makes the
/// child's copy of the address space consistent, exactly as after fork(2).
pub fn clone3(flags: u64, cgroup: Option<BorrowedFd>) -> io::Result<Forked> {
    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags: flags | CLONE_PIDFD | if cgroup.is_some() { CLONE_INTO_CGROUP } else { 0 },
        pidfd: &mut pidfd as *mut RawFd as u64,
        // With CLONE_PARENT the kernel requires 0 here and takes our own exit signal instead.
        exit_signal: if flags & libc::CLONE_PARENT as u64 != 0 { 0 } else { libc::SIGCHLD as u64 },
        cgroup: cgroup.map_or(0, |c| c.as_raw_fd() as u64),
        ..Default::default()
    };
    // SAFETY: `args` is a valid clone_args of the size we pass and `pidfd` outlives the call.
    // With no CLONE_VM and no stack the child gets a private copy of our memory, like fork(2);
    // scutum is single-threaded, so no lock or buffer is half-updated in that copy.
    let ret = check_long(unsafe {
        libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>())
    })?;
    if ret == 0 {
        return Ok(Forked::Child);
    }
    // SAFETY: with CLONE_PIDFD the kernel stored a new fd that only we own.
    let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    Ok(Forked::Parent { pid: ret as i32, pidfd })
}

/// fork(2) via clone3 with no extra flags (hook runners, the exec double fork).
pub fn fork() -> io::Result<Forked> {
    clone3(0, None)
}

pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` to the process behind `pidfd`; unlike kill(2) it can never hit a recycled pid.
pub fn pidfd_send_signal(pidfd: BorrowedFd, sig: i32) -> io::Result<()> {
    // SAFETY: NULL siginfo is allowed; integer arguments only.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })
    .map(drop)
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// The shell convention: the exit code, or 128 + the signal number.
    pub fn status(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }
}

/// Reaps the child behind `pidfd` (waitid P_PIDFD), blocking unless `nohang`.
/// Returns `None` when `nohang` and it has not exited yet.
pub fn wait_pidfd(pidfd: BorrowedFd, nohang: bool) -> io::Result<Option<Exit>> {
    const P_PIDFD: libc::idtype_t = 3;
    let flags = libc::WEXITED | if nohang { libc::WNOHANG } else { 0 };
    let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
    retry(|| {
        // SAFETY: `info` is writable siginfo_t storage.
        check(unsafe { libc::waitid(P_PIDFD, pidfd.as_raw_fd() as libc::id_t, info.as_mut_ptr(), flags) })
    })?;
    // SAFETY: zero-initialised and possibly filled by waitid; reading it is valid either way.
    let info = unsafe { info.assume_init() };
    // SAFETY: for SIGCHLD-style siginfo from waitid the pid/status union members are the
    // active ones.
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(match info.si_code {
        libc::CLD_EXITED => Exit::Code(status),
        _ => Exit::Signal(status),
    }))
}

/// waitpid(2) on one child, blocking.
pub fn waitpid(pid: i32) -> io::Result<Exit> {
    let mut status = 0;
    // SAFETY: `status` is a valid int to write to.
    retry(|| check(unsafe { libc::waitpid(pid, &mut status, 0) }))?;
    Ok(if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else {
        Exit::Signal(libc::WTERMSIG(status))
    })
}

pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// Ends the process at once without running destructors or atexit handlers: what a forked
/// child must do instead of returning into the parent's stack frames.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

pub fn getpid() -> i32 {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

pub fn getuid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// execve(2); returns only on failure.
pub fn execve(path: &CString, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: `path` and every element are valid C strings kept alive by the caller, and both
    // arrays are NULL-terminated.
    unsafe { libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    io::Error::last_os_error()
}

/// execve through an fd (execveat with AT_EMPTY_PATH), so the program we verified is the one
/// that runs, even if the path is swapped after we resolved it.
pub fn fexecve(fd: BorrowedFd, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: both arrays are NULL-terminated arrays of valid C strings that outlive the call.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            a.as_ptr(),
            e.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

fn prctl(op: i32, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the prctl options used here take integer arguments only.
    check(unsafe { libc::prctl(op, arg, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) })
        .map(drop)
}

/// PR_SET_DUMPABLE: a non-dumpable process cannot be ptraced or have its /proc/<pid>/exe,
/// fds or memory opened by processes without CAP_SYS_PTRACE over it (CVE-2016-9962,
/// CVE-2019-5736).
pub fn set_dumpable(on: bool) -> io::Result<()> {
    prctl(libc::PR_SET_DUMPABLE, on as libc::c_ulong)
}

pub fn set_no_new_privs() -> io::Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
}

pub fn set_keepcaps(on: bool) -> io::Result<()> {
    prctl(libc::PR_SET_KEEPCAPS, on as libc::c_ulong)
}

/// PR_SET_PDEATHSIG: the signal this process gets when its parent dies.
pub fn set_parent_death_signal(sig: i32) -> io::Result<()> {
    prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong)
}

pub fn set_child_subreaper() -> io::Result<()> {
    prctl(libc::PR_SET_CHILD_SUBREAPER, 1)
}

/// PR_CAPBSET_DROP for one capability number.
pub fn drop_bounding_cap(cap: u32) -> io::Result<()> {
    prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong)
}

pub fn setresuid(uid: u32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments. The raw syscall (not libc's) changes only
    // this thread, which is all there is.
    check_long(unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) }).map(drop)
}

pub fn setresgid(gid: u32) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    check_long(unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) }).map(drop)
}

pub fn setgroups(groups: &[u32]) -> io::Result<()> {
    // SAFETY: `groups` is a valid array of gid_t of the length we pass.
    check_long(unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) }).map(drop)
}

pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid has no preconditions.
    check(unsafe { libc::setsid() }).map(drop)
}

pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: `name` is readable for its whole length; the kernel does not need a NUL.
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

pub fn setdomainname(name: &str) -> io::Result<()> {
    // SAFETY: `name` is readable for its whole length; the kernel does not need a NUL.
    check(unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) }).map(drop)
}

/// setrlimit on this process (prlimit with pid 0).
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit64 { rlim_cur: soft, rlim_max: hard };
    // SAFETY: `lim` is a valid rlimit64; a NULL old-limit pointer is allowed.
    check(unsafe { libc::prlimit64(0, resource as _, &lim, std::ptr::null_mut()) }).map(drop)
}

/// setns(2) into the namespace behind `fd` (`nstype` 0 accepts any type).
pub fn setns(fd: BorrowedFd, nstype: i32) -> io::Result<()> {
    // SAFETY: plain syscall on a valid fd.
    check(unsafe { libc::setns(fd.as_raw_fd(), nstype) }).map(drop)
}

pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: plain syscall with an integer argument.
    check(unsafe { libc::unshare(flags) }).map(drop)
}

/// Clock ticks per second, for /proc/<pid>/stat start times.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// A helper for `execvp`-like argument building: C strings from Rust strings, failing on NULs.
pub fn cstrings<S: AsRef<str>>(items: &[S]) -> io::Result<Vec<CString>> {
    items.iter().map(|s| cstr(s.as_ref())).collect()
}

/// capset(2) on this thread, setting the effective, permitted and inheritable sets (bit masks
/// of capability numbers) in one call.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const V3: u32 = 0x2008_0522;
    let hdr = Header { version: V3, pid: 0 };
    let split = |m: u64| (m as u32, (m >> 32) as u32);
    let (e0, e1) = split(effective);
    let (p0, p1) = split(permitted);
    let (i0, i1) = split(inheritable);
    let data = [
        Data { effective: e0, permitted: p0, inheritable: i0 },
        Data { effective: e1, permitted: p1, inheritable: i1 },
    ];
    // SAFETY: version 3 takes a header and two data structs, both live for the call.
    check_long(unsafe { libc::syscall(libc::SYS_capset, &hdr as *const Header, data.as_ptr()) }).map(drop)
}

/// Raises one capability in the ambient set (PR_CAP_AMBIENT_RAISE).
pub fn ambient_raise(cap: u32) -> io::Result<()> {
    // SAFETY: integer arguments only.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            cap as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

/// Whether `cap` is in this thread's bounding set (PR_CAPBSET_READ).
pub fn in_bounding_set(cap: u32) -> bool {
    // SAFETY: integer arguments only.
    unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) == 1 }
}
