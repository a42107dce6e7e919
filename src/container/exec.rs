//! `exec`, runtime side: fork, join the container's namespaces through its init's pidfd (one
//! atomic setns, user namespace first by the kernel's own ordering), fork again so the process
//! is inside the pid namespace (CLONE_PARENT makes it our child, so we can wait for it), and
//! collect its pid, terminal and any error until its execve closes the sync channel.

use super::create::{write_pid_file, Console};
use super::Container;
use crate::error::{Error, Result};
use crate::init::join::{self, JoinPlan};
use crate::process::foreground;
use crate::process::sync::{Channel, FromInit};
use crate::sys::{self, fs as sfs, process::Forked};
use oci_spec::runtime::{Process, Spec};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

const CLONE_PARENT: u64 = 0x8000;

pub struct ExecOpts {
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub console: Console,
    pub preserve_fds: u32,
    /// Sub-cgroup (relative to the container's) to run in.
    pub cgroup: Option<String>,
}

/// The CLONE_NEW* flags of the init's namespaces that differ from ours (joining one's own
/// user namespace is an error, and joining the others is pointless).
fn differing_namespaces(pid: i32) -> i32 {
    let types = [
        ("user", libc::CLONE_NEWUSER),
        ("mnt", libc::CLONE_NEWNS),
        ("pid", libc::CLONE_NEWPID),
        ("net", libc::CLONE_NEWNET),
        ("ipc", libc::CLONE_NEWIPC),
        ("uts", libc::CLONE_NEWUTS),
        ("cgroup", libc::CLONE_NEWCGROUP),
        ("time", libc::CLONE_NEWTIME),
    ];
    let mut flags = 0;
    for (name, flag) in types {
        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{name}"));
        let ours = std::fs::read_link(format!("/proc/self/ns/{name}"));
        if let (Ok(t), Ok(o)) = (theirs, ours) {
            if t != o {
                flags |= flag;
            }
        }
    }
    flags
}

/// The container's cgroup (or a sub-cgroup of it) to clone the process into.
fn cgroup_dir(c: &Container, sub: Option<&str>) -> Result<Option<OwnedFd>> {
    let Some(base) = &c.state.cgroup else {
        return match sub {
            Some(_) => Err(Error::Usage("--cgroup: the container has no cgroup of its own".into())),
            None => Ok(None),
        };
    };
    let dir = match sub {
        Some(s) => base.join(crate::rootfs::resolve::normalize(Path::new(s))),
        None => base.clone(),
    };
    let fd = sfs::openat(None, &dir, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| Error::host(format!("open cgroup {}", dir.display()), e))?;
    Ok(Some(fd))
}

/// Runs `process` in container `c` (whose effective config is `spec`). Returns the exit status
/// in the foreground, 0 when detached.
pub fn exec(c: &Container, spec: &Spec, process: &Process, o: &ExecOpts) -> Result<i32> {
    let init = c.pidfd().ok_or_else(|| super::ContainerError::NotRunning(c.state.id.clone()))?;
    let flags = differing_namespaces(c.state.pid);
    let seccomp = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(profile) => Some(crate::seccomp::compile(profile)?),
        None => None,
    };
    let cgroup = cgroup_dir(c, o.cgroup.as_deref())?;
    let set = if o.detach { None } else { Some(foreground::block_signals()?) };
    let (parent_sock, child_sock) =
        sys::socket::seqpacket_pair().map_err(|e| Error::host("create the sync socket", e))?;
    // Non-dumpable from here to execve: a process already in the container cannot ptrace us
    // or open our /proc/<pid>/exe or fds while we join it (CVE-2016-9962, CVE-2019-5736).
    sys::process::set_dumpable(false).map_err(|e| Error::host("make the runtime non-dumpable", e))?;
    let dmz = flags & libc::CLONE_NEWUSER == 0;
    let plan = JoinPlan { process, preserve_fds: o.preserve_fds, seccomp: seccomp.as_ref(), dmz };
    match sys::process::clone3(0, cgroup.as_ref().map(|c| c.as_fd())).map_err(|e| Error::host("fork", e))? {
        Forked::Child => {
            drop(parent_sock);
            middle(&plan, &init, Channel::new(child_sock), flags)
        }
        Forked::Parent { pid: middle_pid, pidfd } => {
            drop(child_sock);
            let chan = Channel::new(parent_sock);
            let middle_fd = pidfd.ok_or_else(|| Error::host("fork", std::io::Error::other("no pidfd")))?;
            let result = collect(&chan, &middle_fd, o);
            let _ = sys::process::wait_pidfd(middle_fd.as_fd(), false);
            let (pid, pidfd, master) = result?;
            let _ = middle_pid;
            if let Some(p) = &o.pid_file {
                write_pid_file(p, pid)?;
            }
            match (&o.console, set) {
                (_, None) => Ok(0),
                (_, Some(set)) => Ok(foreground::wait(&pidfd, &set, master)?.status()),
            }
        }
    }
}

/// Receives, in whatever order they come, the process's pid (from the middle process), its
/// terminal and any error, until execve closes the last copy of the channel.
fn collect(chan: &Channel, middle: &OwnedFd, o: &ExecOpts) -> Result<(i32, OwnedFd, Option<OwnedFd>)> {
    let mut pid = None;
    let mut master = None;
    loop {
        match chan.recv::<FromInit>() {
            Ok(Some((FromInit::Init { pid: p }, _))) => pid = Some(p),
            Ok(Some((FromInit::Ready, mut fds))) => master = fds.pop(),
            Ok(Some((FromInit::Error(m), _))) => {
                if let Some(p) = pid {
                    let _ = sys::process::waitpid(p);
                }
                return Err(Error::Usage(m));
            }
            Ok(Some((other, _))) => return Err(Error::Usage(format!("exec: unexpected message {other:?}"))),
            // EOF: the middle process exited and execve closed the process's copy.
            Ok(None) => break,
            Err(e) => return Err(Error::host("sync with the exec'd process", e)),
        }
    }
    let Some(pid) = pid else {
        let e = sys::process::wait_pidfd(middle.as_fd(), false);
        return Err(Error::Usage(format!("exec: the joining process died ({e:?})")));
    };
    let pidfd =
        sys::process::pidfd_open(pid).map_err(|e| Error::host("open a pidfd for the exec'd process", e))?;
    let master = match (&o.console, master) {
        (Console::Socket(path), Some(m)) => {
            super::create::send_console(path, &m)?;
            None
        }
        (_, m) => m,
    };
    Ok((pid, pidfd, master))
}

/// The middle process: drops every fd it does not need, joins the namespaces, clones the
/// real process as our sibling and reports its pid.
fn middle(plan: &JoinPlan, init: &OwnedFd, chan: Channel, flags: i32) -> ! {
    let mut keep = vec![init.as_raw_fd(), chan.raw_fd()];
    keep.extend(3..3 + plan.preserve_fds as i32);
    let result = (|| -> std::result::Result<i32, String> {
        sfs::close_all_except(&keep).map_err(|e| format!("cannot close inherited fds: {e}"))?;
        sys::process::setns(init.as_fd(), flags)
            .map_err(|e| format!("cannot join the container's namespaces: {e}"))?;
        match sys::process::clone3(CLONE_PARENT, None) {
            Ok(Forked::Child) => {
                // The init's pidfd stays behind: the process keeps only the channel.
                let mut own: Vec<i32> = vec![chan.raw_fd()];
                own.extend(3..3 + plan.preserve_fds as i32);
                let _ = sfs::close_all_except(&own);
                match chan.try_clone() {
                    Ok(c) => join::run(plan, c),
                    Err(_) => sys::process::exit_now(1),
                }
            }
            Ok(Forked::Parent { pid, .. }) => Ok(pid),
            Err(e) => Err(format!("cannot fork into the container: {e}")),
        }
    })();
    let msg = match result {
        Ok(pid) => FromInit::Init { pid },
        Err(m) => FromInit::Error(m),
    };
    let code = matches!(msg, FromInit::Error(_)) as i32;
    let _ = chan.send(&msg, &[]);
    sys::process::exit_now(code)
}
