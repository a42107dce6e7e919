//! The process `exec` starts inside a running container, after it has joined the container's
//! namespaces (its parent did setns on the init's pidfd, then cloned it so it is inside the pid
//! namespace). It gets the container's effective restrictions: capabilities within the
//! policy's ceiling, no_new_privs, rlimits, the container's seccomp filter; the masks come with
//! the mount namespace. It holds no host fd and its root and cwd are the container's: setns
//! into the mount namespace moved them there (CVE-2016-9962, CVE-2024-21626).

use super::exec;
use crate::process::sync::{Channel, FromInit};
use crate::sys::{self, fs as sfs, tty};
use oci_spec::runtime::Process;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// What the joined process needs, prepared by the runtime before it forked.
pub struct JoinPlan<'a> {
    pub process: &'a Process,
    pub preserve_fds: u32,
    pub seccomp: Option<&'a crate::seccomp::Filter>,
    /// The container has no user namespace of its own: exec through the sealed helper.
    pub dmz: bool,
}

/// Entry point of the joined process. Never returns: execve or exit. Errors go to the runtime
/// over `chan` until execve closes it.
pub fn run(plan: &JoinPlan, chan: Channel) -> ! {
    let err = match prepare(plan, &chan) {
        Ok(ready) => finish(plan, &ready),
        Err(e) => e,
    };
    let _ = chan.send(&FromInit::Error(err), &[]);
    sys::process::exit_now(1);
}

struct Prepared {
    helper: Option<OwnedFd>,
    exe: std::ffi::CString,
    argv: Vec<std::ffi::CString>,
    envp: Vec<std::ffi::CString>,
}

fn prepare(plan: &JoinPlan, chan: &Channel) -> Result<Prepared, String> {
    let p = plan.process;
    let root = sfs::openat(None, Path::new("/"), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| format!("cannot open the container's root: {e}"))?;
    let master = if p.terminal().unwrap_or(false) { Some(terminal(root.as_fd(), p)?) } else { None };
    let cwd = exec::enter_cwd(root.as_fd(), p.cwd())?;
    let env = exec::environment(root.as_fd(), p);
    let args = p.args().as_deref().unwrap_or_default();
    let exe = exec::lookup(root.as_fd(), cwd.as_fd(), args, &env)?;
    let argv = sys::process::cstrings(args).map_err(|e| format!("process.args: {e}"))?;
    let envp = sys::process::cstrings(&env).map_err(|e| format!("process.env: {e}"))?;
    let fds: Vec<BorrowedFd> = master.iter().map(|m| m.as_fd()).collect();
    chan.send(&FromInit::Ready, &fds).map_err(|e| format!("sync with the runtime: {e}"))?;
    let helper = if plan.dmz {
        super::dmz::helper().map_err(|e| format!("cannot create the exec helper: {e}"))?
    } else {
        None
    };
    Ok(Prepared { helper, exe, argv, envp })
}

/// A pty from the container's devpts, as stdio and controlling terminal; returns the master.
fn terminal(root: BorrowedFd, p: &Process) -> Result<OwnedFd, String> {
    let how = sfs::RESOLVE_BENEATH | sfs::RESOLVE_NO_SYMLINKS | sfs::RESOLVE_NO_MAGICLINKS;
    let master = sfs::openat2(root, Path::new("dev/pts/ptmx"), libc::O_RDWR | libc::O_NOCTTY, 0, how)
        .map_err(|e| format!("terminal: cannot open /dev/pts/ptmx: {e}"))?;
    if sfs::fs_magic(master.as_fd()).ok() != Some(sfs::DEVPTS_SUPER_MAGIC) {
        return Err("terminal: /dev/pts/ptmx is not on the container's devpts".into());
    }
    let peer =
        tty::open_peer(master.as_fd()).map_err(|e| format!("terminal: cannot open the pty peer: {e}"))?;
    if let Some(size) = p.console_size() {
        let _ = tty::set_size(peer.as_fd(), size.height() as u16, size.width() as u16);
    }
    let _ = sfs::fchown(peer.as_fd(), p.user().uid(), p.user().gid());
    sys::process::setsid().map_err(|e| format!("terminal: setsid: {e}"))?;
    tty::set_controlling(peer.as_fd()).map_err(|e| format!("terminal: {e}"))?;
    for fd in 0..3 {
        sfs::dup2(peer.as_fd(), fd).map_err(|e| format!("terminal: {e}"))?;
    }
    Ok(master)
}

/// Returns only on failure.
fn finish(plan: &JoinPlan, ready: &Prepared) -> String {
    let program = (&ready.exe, ready.argv.as_slice(), ready.envp.as_slice());
    exec::finish(plan.process, plan.preserve_fds, plan.seccomp, program, ready.helper.as_ref(), || Ok(()))
}
