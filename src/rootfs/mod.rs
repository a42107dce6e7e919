//! The container's root file system, built on fds from start to finish.
//!
//! The bundle and its rootfs are attacker-controlled: symlinks, swapped files, races while we
//! mount. Each rule below closes a class of escapes by construction:
//!
//! - **Host side first.** The parent (host mount namespace, full privileges) clones the rootfs
//!   and every bind source into detached mounts (open_tree OPEN_TREE_CLONE), sets their
//!   attributes with mount_setattr, and verifies host device nodes by fstat. The init only
//!   attaches these fds; it never resolves a host path. A bind source is resolved exactly
//!   once, and the policy judges the path it really resolved to.
//! - **In-root resolution.** Every destination is opened with openat2(RESOLVE_IN_ROOT |
//!   RESOLVE_NO_MAGICLINKS) from the root's fd ([`resolve`]); missing parts are created relative
//!   to verified directory fds and re-opened without following symlinks. Mounts attach onto
//!   those fds (move_mount with *_EMPTY_PATH), so swapping a destination for a symlink after
//!   we looked at it changes nothing (CVE-2021-30465, CVE-2024-45310).
//! - **proc and sysfs** go only onto real directories reached without any symlink: /proc as a
//!   symlink in the image is refused (CVE-2019-19921, CVE-2023-27561). Mounts over /proc
//!   sub-paths are refused except the lxcfs-style files in [`PROC_MOUNT_ALLOWLIST`].
//! - **Fresh /dev** ([`dev`]): a new tmpfs, nosuid and noexec; the image's /dev is never used,
//!   and an image whose /dev is a symlink is refused.
//! - **Masks** ([`masks`]) use the container's own verified /dev/null (CVE-2025-31133) and
//!   every mask and read-only path is checked after it is applied.
//! - **Propagation.** The init's mount namespace is made rslave (or the configured
//!   rootfsPropagation) before anything is mounted, and detached trees cloned from the host are
//!   made slaves before they are attached, so no mount made in the container reaches the host.

pub mod dev;
pub mod masks;
pub mod options;
pub mod resolve;

use crate::sys::{fs as sfs, mount as smount};
use dev::HostDevice;
use oci_spec::runtime::{Mount, Spec};
use options::{BindKind, MountOpts};
use resolve::Kind;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Files under /proc that may be mounted over (lxcfs and similar tools fake these).
pub const PROC_MOUNT_ALLOWLIST: [&str; 8] =
    ["cpuinfo", "meminfo", "stat", "uptime", "loadavg", "diskstats", "swaps", "slabinfo"];

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("{field}: {reason}")]
    Config { field: String, reason: String },
    #[error("cannot {what} {path}: {source}")]
    Io { what: &'static str, path: String, source: io::Error },
    #[error("{0}")]
    Verify(String),
}

impl RootfsError {
    pub fn io(what: &'static str, path: impl AsRef<Path>, source: io::Error) -> Self {
        RootfsError::Io { what, path: path.as_ref().display().to_string(), source }
    }

    fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RootfsError::Config { field: field.into(), reason: reason.into() }
    }
}

/// A bind mount prepared on the host: a detached tree with its attributes already set.
pub struct PreparedBind {
    /// A detached mount: a clone of the bind source, or (for sysfs and mqueue of a joined
    /// namespace, see [`premount`]) a new file system instance made on the host side.
    pub tree: OwnedFd,
    pub is_dir: bool,
    /// The path the source really resolved to (after symlinks), for the policy and messages.
    pub real_source: PathBuf,
}

/// Everything the parent prepares on the host before the init exists.
pub struct Prepared {
    /// A detached clone of the bundle's rootfs.
    pub root: OwnedFd,
    /// Per entry of `spec.mounts`: the prepared bind, or `None` for other mount types.
    pub binds: Vec<Option<PreparedBind>>,
    /// Host device nodes to bind, when the container has its own user namespace.
    pub host_devices: Vec<HostDevice>,
}

fn mounts(spec: &Spec) -> &[Mount] {
    spec.mounts().as_deref().unwrap_or_default()
}

pub fn parse_options(i: usize, m: &Mount) -> Result<MountOpts, RootfsError> {
    let opts = m.options().as_deref().unwrap_or_default();
    let mut o = options::parse(opts)
        .map_err(|e| RootfsError::config(format!("mounts[{i}].options"), e.to_string()))?;
    if m.typ().as_deref() == Some("bind") && o.bind.is_none() {
        o.bind = Some(BindKind::Bind);
    }
    Ok(o)
}

/// Judges a bind source by the path it really resolved to and whether the bind is read-only;
/// `Some(reason)` refuses it (the policy's SCU-MNT-001, applied after symlinks are resolved).
pub type BindCheck<'a> = &'a dyn Fn(&Path, bool) -> Option<String>;

/// Parent side: clones the rootfs and the bind sources into detached, configured mounts.
/// `rootfs` has been checked to exist; `user_ns` says whether device nodes must be bound.
/// A file system the init cannot mount itself: sysfs of a joined network namespace, or mqueue
/// of a joined ipc namespace, when the container has a user namespace of its own. The kernel
/// lets only the owner of the network (ipc) namespace's user namespace mount them, and a
/// joined namespace belongs to the host or a pod sandbox, as a Kubernetes pod's containers join
/// their sandbox's under scutum's forced user namespace. A helper process joins that namespace
/// with the runtime's host privileges and makes a detached instance for the init to attach.
pub struct Premount<'a> {
    /// The joined namespace (an fd the parent opened on the config's path) and its type.
    pub net: Option<BorrowedFd<'a>>,
    pub ipc: Option<BorrowedFd<'a>>,
    /// The container has a user namespace of its own (new or joined).
    pub user_ns: bool,
}

fn premount(p: &Premount, i: usize, m: &Mount, o: &MountOpts) -> Result<Option<PreparedBind>, RootfsError> {
    let typ = m.typ().as_deref().unwrap_or_default();
    let (ns, flag) = match (typ, p.user_ns) {
        ("sysfs", true) => (p.net, libc::CLONE_NEWNET),
        ("mqueue", true) => (p.ipc, libc::CLONE_NEWIPC),
        _ => return Ok(None),
    };
    let Some(ns) = ns else { return Ok(None) };
    let src = m.source().as_ref().and_then(|s| s.to_str()).unwrap_or(typ).to_string();
    let data = o.data.clone();
    let attrs = o.set;
    let make = move || fs_mount(typ, Some(&src), &data, attrs);
    let tree = crate::process::in_namespace(ns, flag, make)
        .map_err(|e| RootfsError::io("mount", format!("{typ} of the joined namespace (mounts[{i}])"), e))?;
    Ok(Some(PreparedBind { tree, is_dir: true, real_source: PathBuf::from(typ) }))
}

pub fn prepare(
    spec: &Spec,
    rootfs: &Path,
    pre: &Premount,
    check: Option<BindCheck>,
) -> Result<Prepared, RootfsError> {
    let user_ns = pre.user_ns;
    let dir =
        sfs::openat(None, rootfs, libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW, 0).map_err(|e| {
            let why = match e.raw_os_error() {
                Some(libc::ENOENT) => "does not exist".to_string(),
                Some(libc::ENOTDIR) | Some(libc::ELOOP) => {
                    "is not a directory (a symlink is not accepted)".to_string()
                }
                _ => e.to_string(),
            };
            RootfsError::config("root.path", format!("{}: {why}", rootfs.display()))
        })?;
    let root = smount::open_tree_fd(dir.as_fd(), smount::OPEN_TREE_CLONE | smount::AT_RECURSIVE)
        .map_err(|e| RootfsError::io("clone the rootfs", rootfs, e))?;
    // Cut the clone off from the host's peer groups: it may receive, never send.
    smount::set_propagation(root.as_fd(), libc::MS_SLAVE, true)
        .map_err(|e| RootfsError::io("set propagation of", rootfs, e))?;

    let mut binds = Vec::new();
    for (i, m) in mounts(spec).iter().enumerate() {
        let o = parse_options(i, m)?;
        binds.push(match o.bind {
            Some(kind) => Some(prepare_bind(i, m, &o, kind, check)?),
            None => premount(pre, i, m, &o)?,
        });
    }
    let devices = spec.linux().as_ref().and_then(|l| l.devices().as_deref()).unwrap_or_default();
    let host_devices = if user_ns { dev::prepare_host_devices(devices)? } else { Vec::new() };
    Ok(Prepared { root, binds, host_devices })
}

fn prepare_bind(
    i: usize,
    m: &Mount,
    o: &MountOpts,
    kind: BindKind,
    check: Option<BindCheck>,
) -> Result<PreparedBind, RootfsError> {
    let src = m.source().clone().unwrap_or_default();
    let field = format!("mounts[{i}].source");
    let fd = sfs::openat(None, &src, libc::O_PATH, 0)
        .map_err(|e| RootfsError::config(&field, format!("{}: {e}", src.display())))?;
    let real_source = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)))
        .map_err(|e| RootfsError::io("resolve", &src, e))?;
    let readonly = o.readonly();
    if let Some(why) = check.and_then(|c| c(&real_source, readonly)) {
        return Err(RootfsError::config(
            field,
            format!(
                "refused by policy: SCU-MNT-001: {why} ({} resolves to {})",
                src.display(),
                real_source.display()
            ),
        ));
    }
    let is_dir = sfs::fstat(fd.as_fd()).map_err(|e| RootfsError::io("stat", &src, e))?.st_mode & libc::S_IFMT
        == libc::S_IFDIR;
    let rec = if kind == BindKind::Rbind { smount::AT_RECURSIVE } else { 0 };
    let tree = smount::open_tree_fd(fd.as_fd(), smount::OPEN_TREE_CLONE | rec)
        .map_err(|e| RootfsError::io("bind", &src, e))?;
    let (prop, prop_rec) = o.propagation.unwrap_or((libc::MS_SLAVE, true));
    smount::set_propagation(tree.as_fd(), prop, prop_rec)
        .map_err(|e| RootfsError::io("set propagation of", &src, e))?;
    if o.set | o.clear != 0 {
        smount::setattr(tree.as_fd(), o.set, o.clear, false)
            .map_err(|e| RootfsError::io("apply mount options to", &src, e))?;
    }
    if o.rec_set | o.rec_clear != 0 {
        smount::setattr(tree.as_fd(), o.rec_set, o.rec_clear, true)
            .map_err(|e| RootfsError::io("apply recursive mount options to", &src, e))?;
    }
    idmap_bind(i, m, o, kind, tree.as_fd())?;
    Ok(PreparedBind { tree, is_dir, real_source })
}

/// An idmapped bind (runtime-spec 1.2 `uidMappings`/`gidMappings` with `idmap`/`ridmap`): the
/// detached tree is mapped through a user namespace holding exactly the mount's mappings, so
/// a file the source's uid `containerID + n` owns appears owned by `hostID + n`.
fn idmap_bind(
    i: usize,
    m: &Mount,
    o: &MountOpts,
    kind: BindKind,
    tree: BorrowedFd,
) -> Result<(), RootfsError> {
    let uids = m.uid_mappings().as_deref().unwrap_or_default();
    let gids = m.gid_mappings().as_deref().unwrap_or_default();
    if o.idmap.is_none() && uids.is_empty() && gids.is_empty() {
        return Ok(());
    }
    if uids.is_empty() || gids.is_empty() {
        return Err(RootfsError::config(
            format!("mounts[{i}]"),
            "an idmapped mount needs both uidMappings and gidMappings",
        ));
    }
    let recursive = match o.idmap {
        Some(options::IdmapKind::Ridmap) => true,
        Some(options::IdmapKind::Idmap) => false,
        None => kind == BindKind::Rbind,
    };
    let proc = crate::process::idmap::host_proc().map_err(|e| RootfsError::io("open", "/proc", e))?;
    let ns = crate::process::idmap::userns_with(proc.as_fd(), uids, gids)
        .map_err(|e| RootfsError::io("create a user namespace for", format!("mounts[{i}]"), e))?;
    smount::set_idmap(tree, ns.as_fd(), recursive).map_err(|e| {
        RootfsError::config(
            format!("mounts[{i}]"),
            format!(
                "cannot idmap {}: {e} (the file system may not support idmapped mounts)",
                m.destination().display()
            ),
        )
    })
}

/// What the child needs to know besides the spec.
pub struct Setup<'a> {
    pub spec: &'a Spec,
    pub prepared: &'a Prepared,
    pub user_ns: bool,
    pub ipc_ns: bool,
    pub no_pivot: bool,
}

fn propagation_flag(p: Option<&str>) -> Result<u64, RootfsError> {
    Ok(match p.unwrap_or("") {
        "" | "rslave" => libc::MS_REC | libc::MS_SLAVE,
        "slave" => libc::MS_SLAVE,
        "private" => libc::MS_PRIVATE,
        "rprivate" => libc::MS_REC | libc::MS_PRIVATE,
        "shared" => libc::MS_SHARED,
        "rshared" => libc::MS_REC | libc::MS_SHARED,
        "unbindable" => libc::MS_UNBINDABLE,
        "runbindable" => libc::MS_REC | libc::MS_UNBINDABLE,
        other => {
            return Err(RootfsError::config("linux.rootfsPropagation", format!("unknown value {other:?}")))
        }
    })
}

/// Child side, in the new mount namespace with the rootfs directory as cwd: attaches the root,
/// mounts /dev and the config's mounts, creates devices, calls `before_pivot` (hooks), and
/// pivots. Returns an fd on the new root.
pub fn setup(
    s: &Setup,
    before_pivot: &mut dyn FnMut() -> Result<(), String>,
) -> Result<OwnedFd, RootfsError> {
    let linux = s.spec.linux().as_ref();
    let prop = propagation_flag(linux.and_then(|l| l.rootfs_propagation().as_deref()))?;
    // Nothing mounted from here on may propagate to the host.
    smount::change_propagation(Path::new("/"), prop)
        .map_err(|e| RootfsError::io("set propagation of", "/", e))?;

    let here = sfs::openat(None, Path::new("."), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| RootfsError::io("open", "the rootfs directory", e))?;
    smount::move_mount(s.prepared.root.as_fd(), here.as_fd())
        .map_err(|e| RootfsError::io("attach", "the rootfs", e))?;
    let root = s.prepared.root.as_fd();
    if prop & libc::MS_SHARED == 0 {
        smount::set_propagation(root, prop & !libc::MS_REC, prop & libc::MS_REC != 0)
            .map_err(|e| RootfsError::io("set propagation of", "the rootfs", e))?;
    }

    let dev = mount_dev(s, root)?;
    for (i, m) in mounts(s.spec).iter().enumerate() {
        if resolve::normalize(m.destination()) == Path::new("dev") {
            continue;
        }
        mount_one(s, root, i, m)?;
    }
    default_dev_mounts(s, root)?;
    let devices = linux.and_then(|l| l.devices().as_deref()).unwrap_or_default();
    dev::populate(root, dev.as_fd(), &s.prepared.host_devices, devices, s.user_ns)?;

    before_pivot().map_err(RootfsError::Verify)?;

    sfs::fchdir(root).map_err(|e| RootfsError::io("enter", "the rootfs", e))?;
    if s.no_pivot {
        move_root_and_chroot()?;
    } else {
        pivot()?;
    }
    sfs::openat(None, Path::new("/"), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| RootfsError::io("open", "/", e))
}

/// pivot_root(".", ".") stacks the old root on the new one; detaching it leaves the host's
/// tree unreachable from the container.
fn pivot() -> Result<(), RootfsError> {
    smount::pivot_root_dot().map_err(|e| RootfsError::io("pivot_root into", "the rootfs", e))?;
    // The old root may be shared with the host: make it a slave before detaching so the
    // unmount does not propagate.
    smount::change_propagation(Path::new("."), libc::MS_REC | libc::MS_SLAVE)
        .map_err(|e| RootfsError::io("set propagation of", "the old root", e))?;
    smount::umount2(Path::new("."), libc::MNT_DETACH)
        .map_err(|e| RootfsError::io("detach", "the old root", e))?;
    sfs::chdir(Path::new("/")).map_err(|e| RootfsError::io("enter", "/", e))
}

/// --no-pivot: move the rootfs over / and chroot into it (for roots on ramfs, where
/// pivot_root is impossible).
fn move_root_and_chroot() -> Result<(), RootfsError> {
    let root = sfs::openat(None, Path::new("."), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| RootfsError::io("open", "the rootfs", e))?;
    let slash = sfs::openat(None, Path::new("/"), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| RootfsError::io("open", "/", e))?;
    smount::move_mount(root.as_fd(), slash.as_fd())
        .map_err(|e| RootfsError::io("move", "the rootfs to /", e))?;
    smount::chroot_dot().map_err(|e| RootfsError::io("chroot into", "the rootfs", e))?;
    sfs::chdir(Path::new("/")).map_err(|e| RootfsError::io("enter", "/", e))
}

/// Mounts the fresh /dev tmpfs, taking only data options (size) from a config /dev mount.
fn mount_dev(s: &Setup, root: BorrowedFd) -> Result<OwnedFd, RootfsError> {
    let p = Path::new("/dev");
    let target = match resolve::open_no_symlinks(root, p, libc::O_DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            resolve::create(root, p, Kind::Dir).map_err(|e| RootfsError::io("create", p, e))?
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) || e.raw_os_error() == Some(libc::ENOTDIR) => {
            return Err(RootfsError::config(
                "root.path",
                "the image's /dev is not a plain directory (a symlink?): refusing to use it",
            ))
        }
        Err(e) => return Err(RootfsError::io("open", p, e)),
    };
    let mut data =
        vec![("mode".to_string(), Some("755".to_string())), ("size".to_string(), Some("65536k".to_string()))];
    for (i, m) in mounts(s.spec).iter().enumerate() {
        if resolve::normalize(m.destination()) == Path::new("dev") && m.typ().as_deref() == Some("tmpfs") {
            let o = parse_options(i, m)?;
            data.extend(o.data.into_iter().filter(|(k, _)| k == "size" || k == "nr_inodes"));
        }
    }
    let attrs = smount::MOUNT_ATTR_NOSUID | smount::MOUNT_ATTR_NOEXEC | smount::MOUNT_ATTR_STRICTATIME;
    let m = fs_mount("tmpfs", Some("tmpfs"), &data, attrs)
        .map_err(|e| RootfsError::io("mount tmpfs on", p, e))?;
    smount::move_mount(m.as_fd(), target.as_fd()).map_err(|e| RootfsError::io("mount", p, e))?;
    // The fd of the new tmpfs's root is the only way we touch /dev from now on.
    Ok(m)
}

fn has_mount(spec: &Spec, dest: &str) -> bool {
    mounts(spec).iter().any(|m| resolve::normalize(m.destination()) == Path::new(dest))
}

/// /dev/pts, /dev/shm and /dev/mqueue when the config does not mount them itself.
fn default_dev_mounts(s: &Setup, root: BorrowedFd) -> Result<(), RootfsError> {
    let kv = |k: &str, v: &str| (k.to_string(), Some(v.to_string()));
    let nosuid_noexec = smount::MOUNT_ATTR_NOSUID | smount::MOUNT_ATTR_NOEXEC;
    let mut wanted = vec![(
        "dev/pts",
        "devpts",
        vec![("newinstance".to_string(), None), kv("ptmxmode", "0666"), kv("mode", "0620")],
        nosuid_noexec,
    )];
    wanted.push((
        "dev/shm",
        "tmpfs",
        vec![kv("mode", "1777"), kv("size", "65536k")],
        nosuid_noexec | smount::MOUNT_ATTR_NODEV,
    ));
    if s.ipc_ns {
        wanted.push(("dev/mqueue", "mqueue", vec![], nosuid_noexec | smount::MOUNT_ATTR_NODEV));
    }
    for (dest, typ, data, attrs) in wanted {
        if has_mount(s.spec, dest) {
            continue;
        }
        let p = PathBuf::from("/").join(dest);
        let target = resolve::create(root, &p, Kind::Dir).map_err(|e| RootfsError::io("create", &p, e))?;
        let m = fs_mount(typ, Some(typ), &data, attrs).map_err(|e| RootfsError::io("mount", &p, e))?;
        smount::move_mount(m.as_fd(), target.as_fd()).map_err(|e| RootfsError::io("mount", &p, e))?;
    }
    Ok(())
}

/// Creates a file system instance with fsopen/fsconfig/fsmount; the error carries the
/// kernel's own message about a bad option when it logged one.
fn fs_mount(
    typ: &str,
    source: Option<&str>,
    data: &[(String, Option<String>)],
    attrs: u64,
) -> io::Result<OwnedFd> {
    let ctx = smount::FsContext::open(typ)?;
    if let Some(src) = source.filter(|s| !s.is_empty()) {
        // Only shown in mountinfo; file systems without a source ignore it.
        let _ = ctx.set("source", Some(src));
    }
    let with_msg = |ctx: &smount::FsContext, e: io::Error| match ctx.last_message() {
        Some(m) => io::Error::new(e.kind(), format!("{e} ({m})")),
        None => e,
    };
    for (k, v) in data {
        if let Err(e) = ctx.set(k, v.as_deref()) {
            let e = with_msg(&ctx, e);
            let opt = match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            };
            return Err(io::Error::new(e.kind(), format!("option {opt:?}: {e}")));
        }
    }
    // fsmount takes only the mount attributes; the atime field must be a single value.
    ctx.mount(attrs)
}

fn is_proc_subpath(norm: &Path) -> Option<&str> {
    let rest = norm.strip_prefix("proc").ok()?;
    (!rest.as_os_str().is_empty()).then(|| rest.to_str().unwrap_or("?"))
}

fn mount_one(s: &Setup, root: BorrowedFd, i: usize, m: &Mount) -> Result<(), RootfsError> {
    let dest = m.destination();
    let norm = resolve::normalize(dest);
    let field = format!("mounts[{i}].destination");
    if let Some(sub) = is_proc_subpath(&norm) {
        if !PROC_MOUNT_ALLOWLIST.contains(&sub) {
            return Err(RootfsError::config(
                field,
                format!(
                    "mounting over {} is not allowed (only /proc/{{{}}})",
                    dest.display(),
                    PROC_MOUNT_ALLOWLIST.join(",")
                ),
            ));
        }
    }
    let o = parse_options(i, m)?;
    if let Some(b) = s.prepared.binds.get(i).and_then(Option::as_ref) {
        let kind = if b.is_dir { Kind::Dir } else { Kind::File };
        let target = if m.typ().as_deref() == Some("sysfs") {
            real_dir(root, dest, &field, "sysfs")?
        } else {
            resolve::create(root, dest, kind)
                .map_err(|e| RootfsError::config(&field, format!("{}: {e}", dest.display())))?
        };
        return smount::move_mount(b.tree.as_fd(), target.as_fd())
            .map_err(|e| RootfsError::io("bind-mount onto", dest, e));
    }
    let typ = m.typ().as_deref().unwrap_or_default();
    let typ = if typ == "cgroup" { "cgroup2" } else { typ };
    let target = if typ == "proc" || typ == "sysfs" {
        real_dir(root, dest, &field, typ)?
    } else {
        resolve::create(root, dest, Kind::Dir)
            .map_err(|e| RootfsError::config(&field, format!("{}: {e}", dest.display())))?
    };
    let mut data = o.data.clone();
    if typ == "devpts" && s.user_ns {
        // gid=5 (tty) only works when that gid is mapped into the container.
        data.retain(|(k, v)| k != "gid" || v.as_deref().is_some_and(|g| gid_mapped(s.spec, g)));
    }
    let src = m.source().as_ref().and_then(|p| p.to_str());
    let mnt = fs_mount(typ, src, &data, o.set)
        .map_err(|e| RootfsError::io("mount", format!("{typ} on {}", dest.display()), e))?;
    if o.rec_set | o.rec_clear != 0 {
        smount::setattr(mnt.as_fd(), o.rec_set, o.rec_clear, true)
            .map_err(|e| RootfsError::io("apply options to", dest, e))?;
    }
    smount::move_mount(mnt.as_fd(), target.as_fd())
        .map_err(|e| RootfsError::io("mount", format!("{typ} on {}", dest.display()), e))?;
    if let Some((p, rec)) = o.propagation {
        smount::set_propagation(mnt.as_fd(), p, rec)
            .map_err(|e| RootfsError::io("set propagation of", dest, e))?;
    }
    Ok(())
}

/// The destination of a proc or sysfs mount: an existing (or new) real directory, reached
/// without following any symlink.
fn real_dir(root: BorrowedFd, dest: &Path, field: &str, typ: &str) -> Result<OwnedFd, RootfsError> {
    match resolve::open_no_symlinks(root, dest, libc::O_DIRECTORY) {
        Ok(fd) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            resolve::create(root, dest, Kind::Dir).map_err(|e| RootfsError::config(field, format!("{}: {e}", dest.display())))
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENOTDIR)) => Err(RootfsError::config(
            field,
            format!("{} is a symlink or not a directory in the rootfs; {typ} is only mounted onto a real directory", dest.display()),
        )),
        Err(e) => Err(RootfsError::io("open", dest, e)),
    }
}

fn gid_mapped(spec: &Spec, gid: &str) -> bool {
    let Ok(g) = gid.parse::<u32>() else { return false };
    let maps = spec.linux().as_ref().and_then(|l| l.gid_mappings().as_deref()).unwrap_or_default();
    maps.iter().any(|m| g >= m.container_id() && g - m.container_id() < m.size())
}
