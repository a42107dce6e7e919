//! Creating the container's init: clone3 straight into its namespaces and cgroup, with a
//! pidfd, plus the parent<->init sync channel and uid/gid mapping.

pub mod foreground;
pub mod idmap;
pub mod namespaces;
pub mod sync;

use crate::init::{self, InitPlan};
use crate::sys::{self, fs as sfs, process::Forked};
use namespaces::NsPlan;
use oci_spec::runtime::LinuxIdMapping;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use sync::{Channel, FromInit, FromParent};

const CLONE_PARENT: u64 = 0x8000;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot {what}: {source}")]
    Io { what: &'static str, source: io::Error },
    #[error("{0}")]
    Init(String),
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> ProcessError {
    move |source| ProcessError::Io { what, source }
}

/// Runs `make` in a child process that first joins the namespace `ns` (of type `flag`) with our
/// host privileges, and returns the fd it made (a detached mount), passed back over a socket.
pub fn in_namespace(
    ns: BorrowedFd,
    flag: i32,
    make: impl FnOnce() -> io::Result<OwnedFd>,
) -> io::Result<OwnedFd> {
    let (ours, theirs) = sys::socket::seqpacket_pair()?;
    match sys::process::fork()? {
        Forked::Child => {
            drop(ours);
            let result = sys::process::setns(ns, flag).and_then(|()| make());
            let _ = match &result {
                Ok(fd) => sys::socket::send_with_fds(theirs.as_fd(), b"ok", &[fd.as_fd()]),
                Err(e) => sys::socket::send_with_fds(theirs.as_fd(), e.to_string().as_bytes(), &[]),
            };
            sys::process::exit_now(0)
        }
        Forked::Parent { pidfd, .. } => {
            drop(theirs);
            let mut buf = [0u8; 512];
            let got = sys::socket::recv_with_fds(ours.as_fd(), &mut buf, 1);
            if let Some(p) = pidfd {
                let _ = sys::process::wait_pidfd(p.as_fd(), false);
            }
            let (n, mut fds) = got?;
            match fds.pop() {
                Some(fd) => Ok(fd),
                None => Err(io::Error::other(String::from_utf8_lossy(&buf[..n]).into_owned())),
            }
        }
    }
}

/// The user namespace maps the parent writes for a new user namespace.
pub struct Maps<'a> {
    pub uids: &'a [LinuxIdMapping],
    pub gids: &'a [LinuxIdMapping],
}

/// The init, seen from the parent.
pub struct Spawned {
    pub pid: i32,
    pub pidfd: OwnedFd,
    pub channel: Channel,
}

/// Clones the init. `rootfs_dir` becomes the child's cwd (its new mount namespace translates
/// it), which is how the child finds the place to attach the rootfs without resolving a host
/// path it may not be allowed to traverse. Returns once the init exists and, with a new user
/// namespace, is mapped.
pub fn spawn(
    plan: &InitPlan,
    ns: &NsPlan,
    cgroup: Option<BorrowedFd>,
    rootfs_dir: BorrowedFd,
    maps: Option<Maps>,
    proc: BorrowedFd,
) -> Result<Spawned, ProcessError> {
    let (parent_sock, child_sock) =
        sys::socket::seqpacket_pair().map_err(io_err("create the sync socket"))?;
    let cwd = sfs::openat(None, Path::new("."), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(io_err("open the cwd"))?;
    sfs::fchdir(rootfs_dir).map_err(io_err("enter the rootfs directory"))?;
    let bootstrap = ns.needs_bootstrap();
    let flags = if bootstrap { 0 } else { ns.new_flags as u64 };
    let forked = sys::process::clone3(flags, cgroup);
    if let Ok(Forked::Child) = forked {
        drop(parent_sock);
        let chan = Channel::new(child_sock);
        if bootstrap {
            run_bootstrap(plan, ns, chan);
        }
        init::run(plan, ns, chan, false);
    }
    let restored = sfs::fchdir(cwd.as_fd());
    let Forked::Parent { pid, pidfd } = forked.map_err(io_err("clone the container init"))? else {
        unreachable!()
    };
    restored.map_err(io_err("return to the cwd"))?;
    drop(child_sock);
    let channel = Channel::new(parent_sock);
    let pidfd = pidfd.ok_or_else(|| ProcessError::Init("clone3 returned no pidfd".into()))?;
    if !bootstrap {
        if let Some(m) = &maps {
            idmap::write_maps(proc, pid, m.uids, m.gids).map_err(io_err("map the user namespace"))?;
        }
        return Ok(Spawned { pid, pidfd, channel });
    }
    // Bootstrap: map its user namespace if it made one, then learn the real init's pid.
    let helper = pidfd;
    let init_pid = loop {
        match recv_init(&channel, &helper)? {
            FromInit::MapMe { pid: bpid } => {
                if let Some(m) = &maps {
                    idmap::write_maps(proc, bpid, m.uids, m.gids)
                        .map_err(io_err("map the user namespace"))?;
                }
                channel
                    .send(&FromParent::Mapped { state: String::new() }, &[])
                    .map_err(io_err("sync with the init"))?;
            }
            FromInit::Init { pid } => break pid,
            other => return Err(ProcessError::Init(format!("unexpected message from the init: {other:?}"))),
        }
    };
    let _ = sys::process::wait_pidfd(helper.as_fd(), false);
    let pidfd = sys::process::pidfd_open(init_pid).map_err(io_err("open a pidfd for the init"))?;
    Ok(Spawned { pid: init_pid, pidfd, channel })
}

/// Receives the init's next message; an error report or a closed channel becomes the init's
/// own error, or its exit status when it died without a word.
pub fn recv_init(chan: &Channel, pidfd: &OwnedFd) -> Result<FromInit, ProcessError> {
    match chan.recv::<FromInit>() {
        Ok(Some((FromInit::Error(msg), _))) => Err(ProcessError::Init(msg)),
        Ok(Some((m, _))) => Ok(m),
        Ok(None) => Err(ProcessError::Init(died(pidfd))),
        Err(e) => Err(ProcessError::Io { what: "sync with the init", source: e }),
    }
}

/// Like [`recv_init`], also returning the fds that came with the message.
pub fn recv_init_fds(chan: &Channel, pidfd: &OwnedFd) -> Result<(FromInit, Vec<OwnedFd>), ProcessError> {
    match chan.recv::<FromInit>() {
        Ok(Some((FromInit::Error(msg), _))) => Err(ProcessError::Init(msg)),
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(ProcessError::Init(died(pidfd))),
        Err(e) => Err(ProcessError::Io { what: "sync with the init", source: e }),
    }
}

fn died(pidfd: &OwnedFd) -> String {
    match sys::process::wait_pidfd(pidfd.as_fd(), false) {
        Ok(Some(sys::process::Exit::Signal(s))) => {
            format!("container init was killed by signal {s} during setup")
        }
        Ok(Some(sys::process::Exit::Code(c))) => {
            format!("container init exited with status {c} during setup")
        }
        _ => "container init exited during setup".into(),
    }
}

/// The bootstrap process: joins namespaces by path, creates the user namespace if asked (and
/// has the parent map it), then clones the real init as a sibling (CLONE_PARENT) with the
/// remaining new namespaces, so every new namespace is owned by the right user namespace and
/// the init is pid 1 of a joined or new pid namespace.
fn run_bootstrap(plan: &InitPlan, ns: &NsPlan, chan: Channel) -> ! {
    let result = (|| -> Result<i32, String> {
        for j in &ns.joins {
            sys::process::setns(j.fd.as_fd(), namespaces::clone_flag(j.typ))
                .map_err(|e| format!("cannot join {} namespace {}: {e}", j.typ, j.path.display()))?;
        }
        let mut flags = ns.new_flags;
        if flags & libc::CLONE_NEWUSER != 0 {
            sys::process::unshare(libc::CLONE_NEWUSER)
                .map_err(|e| format!("cannot create a user namespace: {e}"))?;
            chan.send(&FromInit::MapMe { pid: sys::process::getpid() }, &[]).map_err(|e| e.to_string())?;
            match chan.recv::<FromParent>() {
                Ok(Some((FromParent::Mapped { .. }, _))) => {}
                _ => return Err("the runtime did not map the user namespace".into()),
            }
            flags &= !libc::CLONE_NEWUSER;
        }
        match sys::process::clone3(flags as u64 | CLONE_PARENT, None) {
            Ok(Forked::Child) => match chan.try_clone() {
                Ok(c) => init::run(plan, ns, c, true),
                Err(_) => sys::process::exit_now(1),
            },
            Ok(Forked::Parent { pid, .. }) => Ok(pid),
            Err(e) => Err(format!("cannot clone the container init: {e}")),
        }
    })();
    match result {
        Ok(pid) => {
            let _ = chan.send(&FromInit::Init { pid }, &[]);
            sys::process::exit_now(0)
        }
        Err(msg) => {
            let _ = chan.send(&FromInit::Error(msg), &[]);
            sys::process::exit_now(1)
        }
    }
}
