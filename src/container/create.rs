//! The create protocol, parent side (DESIGN.md §2): state dir, exec fifo, host-side mount
//! preparation, clone of the init, uid/gid maps, hooks, console hand-over, pid file, `created`.
//! Any failure undoes everything done so far: no state dir, process or mount is left behind.

use super::state::{State, StateDir, CONFIG_FILE, FIFO_FILE};
use super::uidpool::{self, UidRange};
use super::Status;
use crate::error::{Error, Result};
use crate::init::InitPlan;
use crate::policy::{UidPool, UsernsPlan};
use crate::process::namespaces::NsPlan;
use crate::process::sync::{FromInit, FromParent};
use crate::process::{self, idmap, Maps, Spawned};
use crate::sys::{self, fs as sfs};
use crate::{cgroups, hooks, log, rootfs, seccomp, spec};
use oci_spec::runtime::{LinuxIdMappingBuilder, LinuxNamespaceType, Spec};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Where the pty master of a terminal container goes.
pub enum Console {
    None,
    /// Sent to this unix socket (--console-socket).
    Socket(PathBuf),
    /// Handed back to the caller (`run` in the foreground proxies it).
    Return,
}

pub struct CreateOpts<'a> {
    pub root: &'a Path,
    /// The policy's name, recorded in the state.
    pub policy: &'a str,
    /// What the policy asked for the user namespace, and the pool to allocate from.
    pub userns: UsernsPlan,
    pub uid_pool: Option<UidPool>,
    /// The policy's judgement of bind sources by the path they really resolve to.
    pub bind_check: Option<rootfs::BindCheck<'a>>,
    pub id: &'a str,
    /// Absolute bundle path.
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console: Console,
    pub no_pivot: bool,
    pub preserve_fds: u32,
    /// `--systemd-cgroup`: how `linux.cgroupsPath` reads (see `cgroups::path`).
    pub systemd_cgroup: bool,
    /// Host policy: run without limits this host cannot enforce (see `cgroups::Options`).
    pub allow_unenforced: bool,
}

pub struct Created {
    pub state: State,
    pub pidfd: OwnedFd,
    /// The pty master, with [`Console::Return`].
    pub master: Option<OwnedFd>,
}

/// Undoes a half-done create when dropped without [`Cleanup::disarm`].
struct Cleanup {
    dir: Option<StateDir>,
    pidfd: Option<OwnedFd>,
    range: Option<(PathBuf, String, UidRange)>,
    cgroup: Option<cgroups::Cgroup>,
}

impl Cleanup {
    fn disarm(mut self) -> StateDir {
        self.pidfd = None;
        self.range = None;
        self.cgroup = None;
        self.dir.take().expect("state dir present until disarmed")
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(p) = self.pidfd.take() {
            let _ = sys::process::pidfd_send_signal(p.as_fd(), libc::SIGKILL);
            let _ = sys::process::wait_pidfd(p.as_fd(), false);
        }
        if let Some((root, id, r)) = self.range.take() {
            uidpool::release(&root, &id, &r);
        }
        // After the init: removing the cgroup kills whatever else is left in it first.
        if let Some(cg) = self.cgroup.take() {
            let _ = cgroups::remove(&cg.path, cg.owned_parents);
        }
        if let Some(d) = self.dir.take() {
            let _ = d.remove();
        }
    }
}

fn check_console(spec: &Spec, console: &Console) -> Result<()> {
    let terminal = spec.process().as_ref().and_then(|p| p.terminal()).unwrap_or(false);
    match (terminal, console) {
        (true, Console::None) => Err(Error::Usage(
            "process.terminal is true but no --console-socket was given: there is nobody to hand the terminal to".into(),
        )),
        (false, Console::Socket(_)) => {
            Err(Error::Usage("--console-socket was given but process.terminal is false: there is no terminal to send".into()))
        }
        _ => Ok(()),
    }
}

/// State JSON as hooks receive it on stdin.
pub fn hook_state(state: &State, status: Status) -> String {
    serde_json::json!({
        "ociVersion": state.oci_version,
        "id": state.id,
        "status": status,
        "pid": state.pid,
        "bundle": state.bundle,
        "annotations": state.annotations,
    })
    .to_string()
}

/// Maps container ids 0-65535 to the allocated host range.
fn set_mappings(spec: &mut Spec, r: &UidRange) {
    let m = LinuxIdMappingBuilder::default()
        .container_id(0u32)
        .host_id(r.start)
        .size(r.size)
        .build()
        .expect("all fields set");
    let linux = spec.linux_mut().as_mut().expect("the policy added a user namespace");
    linux.set_uid_mappings(Some(vec![m])).set_gid_mappings(Some(vec![m]));
}

/// Creates the container described by the (already validated and policy-checked) `spec`.
pub fn create(opts: &CreateOpts, mut spec: Spec) -> Result<Created> {
    check_console(&spec, &opts.console)?;
    // Before any side effect: a limit this host cannot enforce refuses the container here,
    // and a seccomp profile that cannot be translated is a config error.
    let cgroup_setup = cgroups::prepare(
        &spec,
        &cgroups::Options {
            id: opts.id,
            systemd: opts.systemd_cgroup,
            allow_unenforced: opts.allow_unenforced,
            proc: Path::new("/proc"),
        },
    )?;
    let seccomp = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(profile) => Some(seccomp::compile(profile)?),
        None => None,
    };
    let rootfs_path = spec::rootfs_path(&spec, &opts.bundle);
    let dir = StateDir::create(opts.root, opts.id)?;
    let mut guard = Cleanup { dir: Some(dir), pidfd: None, range: None, cgroup: None };
    let uid_range = match (&opts.uid_pool, opts.userns.allocate) {
        (Some(pool), true) => {
            let r = uidpool::allocate(opts.root, opts.id, pool)?;
            guard.range = Some((opts.root.to_path_buf(), opts.id.to_string(), r));
            set_mappings(&mut spec, &r);
            Some(r)
        }
        _ => None,
    };
    let spec = &spec;
    let dir = guard.dir.as_ref().expect("just set");

    let mut state = State {
        oci_version: spec.version().clone(),
        id: opts.id.to_string(),
        status: Status::Creating,
        pid: 0,
        pid_start: 0,
        bundle: opts.bundle.clone(),
        rootfs: rootfs_path.clone(),
        created: log::rfc3339(std::time::SystemTime::now()),
        annotations: spec.annotations().clone().unwrap_or_default().into_iter().collect(),
        owner: String::new(),
        cgroup: None,
        uid_range,
        policy: opts.policy.to_string(),
        paused: false,
        poststart: spec.hooks().as_ref().and_then(|h| h.poststart().clone()).unwrap_or_default(),
        poststop: spec.hooks().as_ref().and_then(|h| h.poststop().clone()).unwrap_or_default(),
        cgroup_owned_parents: 0,
    };
    // The effective config first: with it, `delete --force` can find and remove everything a
    // create killed at any later point made (state.json is first written once the init exists).
    dir.write_atomic(CONFIG_FILE, &serde_json::to_vec(spec).expect("spec serialises"))?;

    let fifo_path = dir.file(FIFO_FILE);
    sfs::mkfifo(&fifo_path, 0o622).map_err(|e| Error::host(format!("create {}", fifo_path.display()), e))?;
    // World-writable (not readable) whatever the umask: the init may be root of a user
    // namespace that owns nothing on the host, and only needs to open it for writing.
    std::fs::set_permissions(&fifo_path, std::os::unix::fs::PermissionsExt::from_mode(0o622))
        .map_err(|e| Error::host(format!("chmod {}", fifo_path.display()), e))?;
    let fifo = sfs::openat(None, &fifo_path, libc::O_PATH, 0)
        .map_err(|e| Error::host(format!("open {}", fifo_path.display()), e))?;

    let ns = NsPlan::from_spec(spec).map_err(|e| Error::host("prepare namespaces", e))?;
    let user_ns = ns.creates(LinuxNamespaceType::User) || ns.joins_type(LinuxNamespaceType::User);
    let joined = |t: LinuxNamespaceType| ns.joins.iter().find(|j| j.typ == t).map(|j| j.fd.as_fd());
    let premount = rootfs::Premount {
        net: joined(LinuxNamespaceType::Network),
        ipc: joined(LinuxNamespaceType::Ipc),
        user_ns,
    };
    let prepared = rootfs::prepare(spec, &rootfs_path, &premount, opts.bind_check)?;
    let rootfs_dir = sfs::openat(None, &rootfs_path, libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW, 0)
        .map_err(|e| Error::host(format!("open {}", rootfs_path.display()), e))?;
    let proc = idmap::host_proc().map_err(|e| Error::host("open /proc", e))?;
    let linux = spec.linux().as_ref();
    let maps = ns.creates(LinuxNamespaceType::User).then(|| Maps {
        uids: linux.and_then(|l| l.uid_mappings().as_deref()).unwrap_or_default(),
        gids: linux.and_then(|l| l.gid_mappings().as_deref()).unwrap_or_default(),
    });
    let plan = InitPlan {
        spec,
        rootfs: &prepared,
        fifo,
        preserve_fds: opts.preserve_fds,
        no_pivot: opts.no_pivot,
        user_ns,
        seccomp,
    };
    // The limits are in force before the init exists, and it is born inside them
    // (CLONE_INTO_CGROUP): nothing of the container ever runs outside its cgroup.
    guard.cgroup = cgroup_setup.create()?;
    if let Some(cg) = &guard.cgroup {
        state.cgroup = Some(cg.path.clone());
        state.cgroup_owned_parents = cg.owned_parents;
    }
    // The init inherits this: nothing in the container may ptrace it or open its
    // /proc/<pid>/exe (our binary) before it execs (CVE-2016-9962, CVE-2019-5736).
    sys::process::set_dumpable(false).map_err(|e| Error::host("make the runtime non-dumpable", e))?;
    let cgroup_dir = guard.cgroup.as_ref().map(|c| c.dir.as_fd());
    let Spawned { pid, pidfd, channel } =
        process::spawn(&plan, &ns, cgroup_dir, rootfs_dir.as_fd(), maps, proc.as_fd())?;
    guard.pidfd = Some(pidfd);
    let pidfd = guard.pidfd.as_ref().expect("just set");
    if opts.userns.idmap_rootfs {
        idmap_rootfs(&prepared, proc.as_fd(), pid, &rootfs_path)?;
    }
    drop(prepared);

    state.pid = pid;
    state.pid_start = super::proc_start_time(Path::new("/proc"), pid).map(|(_, s)| s).unwrap_or(0);
    if let Some(adj) = spec.process().as_ref().and_then(|p| p.oom_score_adj()) {
        idmap::write_proc(proc.as_fd(), pid, "oom_score_adj", &adj.to_string())
            .map_err(|e| Error::host(format!("process.oomScoreAdj: set {adj}"), e))?;
    }
    dir.save(&state)?;
    channel
        .send(&FromParent::Mapped { state: hook_state(&state, Status::Creating) }, &[])
        .map_err(|e| Error::host("sync with the init", e))?;

    let master = loop {
        let (msg, mut fds) = process::recv_init_fds(&channel, pidfd)?;
        match msg {
            FromInit::RunHooks => {
                let h = spec.hooks().as_ref().expect("init asked for hooks");
                let st = hook_state(&state, Status::Creating);
                #[allow(deprecated)]
                hooks::run_all("prestart", h.prestart().as_deref().unwrap_or_default(), &st)?;
                hooks::run_all("createRuntime", h.create_runtime().as_deref().unwrap_or_default(), &st)?;
                channel
                    .send(&FromParent::HooksDone, &[])
                    .map_err(|e| Error::host("sync with the init", e))?;
            }
            FromInit::Ready => break fds.pop(),
            other => {
                return Err(Error::Host {
                    what: format!("sync with the init: unexpected {other:?}"),
                    source: std::io::Error::other("protocol"),
                })
            }
        }
    };

    let master = match (&opts.console, master) {
        (Console::Socket(path), Some(m)) => {
            send_console(path, &m)?;
            None
        }
        (_, m) => m,
    };
    if let Some(p) = &opts.pid_file {
        write_pid_file(p, pid)?;
    }
    state.status = Status::Created;
    dir.save(&state)?;
    let pidfd = guard.pidfd.take().expect("set above");
    // Dropping the state dir releases its lock for `start`.
    drop(guard.disarm());
    Ok(Created { state, pidfd, master })
}

/// Makes the detached rootfs an idmapped mount through the init's user namespace, so files the
/// image's root owns appear owned by the container's root. The init attaches it only after
/// this (it waits for `Mapped`). Where the file system or kernel cannot idmap, create fails:
/// running with every file owned by "nobody" would be silently wrong.
fn idmap_rootfs(
    prepared: &rootfs::Prepared,
    proc: std::os::fd::BorrowedFd,
    pid: i32,
    rootfs: &Path,
) -> Result<()> {
    // A magic link inside the verified host procfs: the one place we follow one on purpose.
    let ns = sfs::openat(Some(proc), Path::new(&format!("{pid}/ns/user")), libc::O_RDONLY, 0)
        .map_err(|e| Error::host("open the container's user namespace", e))?;
    sys::mount::set_idmap(prepared.root.as_fd(), ns.as_fd(), true).map_err(|e| {
        Error::Usage(format!(
            "root.path: cannot idmap the rootfs {} ({e}): the hardened policy runs every container in its own user namespace \
             with an idmapped rootfs, which needs a file system that supports idmapped mounts (ext4, xfs, btrfs since \
             Linux 5.12, tmpfs since 6.3; an overlayfs mount itself cannot be idmapped, as containerd's snapshotter \
             makes it); put the rootfs on such a file system, or select the baseline policy for this runtime root",
            rootfs.display()
        ))
    })
}

/// Sends the pty master in exactly one sendmsg carrying one SCM_RIGHTS fd, without waiting for
/// a reply (what containerd's shim and `recvtty` expect).
pub fn send_console(path: &Path, master: &OwnedFd) -> Result<()> {
    let sock = sys::socket::connect_unix(path)
        .map_err(|e| Error::host(format!("connect to --console-socket {}", path.display()), e))?;
    sys::socket::send_with_fds(sock.as_fd(), b"/dev/ptmx", &[master.as_fd()])
        .map_err(|e| Error::host(format!("send the terminal to {}", path.display()), e))
}

/// The pid file: decimal, no newline, written to a temp name and renamed so a reader never
/// sees it half-written.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, pid.to_string()).map_err(|e| Error::host(format!("write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::host(format!("rename {} to {}", tmp.display(), path.display()), e)
    })
}
