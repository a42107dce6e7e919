//! A fresh /dev for every container: a new tmpfs (nosuid, noexec, mode 755) holding only the
//! default devices, the standard symlinks and the devices the config lists. The image's own
//! /dev is never used or modified, so device nodes or symlinks planted in the image do nothing
//! (the 2026 /dev-is-a-symlink bugs). In a user namespace mknod is not allowed, so the host's
//! device nodes are bind-mounted from fds the runtime opened (and verified) on the host.

use super::resolve::{self, Kind};
use super::RootfsError;
use crate::sys::{fs as sfs, mount as smount};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The devices every container gets: name, major, minor.
pub const DEFAULT_DEVICES: [(&str, u32, u32); 6] =
    [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)];

const SYMLINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// A device node to bind from the host (user namespaces): where it goes, and a detached mount
/// of the host's node.
pub struct HostDevice {
    pub path: PathBuf,
    pub tree: OwnedFd,
}

fn dev_t(major: u32, minor: u32) -> u64 {
    libc::makedev(major, minor)
}

/// Checks that `fd` is the device node we expect (type and numbers), so a host path that is
/// not what it claims is never bound into a container.
pub fn verify_node(
    fd: BorrowedFd,
    char_dev: bool,
    major: u32,
    minor: u32,
    what: &Path,
) -> Result<(), RootfsError> {
    let st = sfs::fstat(fd).map_err(|e| RootfsError::io("stat", what, e))?;
    let want = if char_dev { libc::S_IFCHR } else { libc::S_IFBLK };
    if st.st_mode & libc::S_IFMT != want || st.st_rdev != dev_t(major, minor) {
        return Err(RootfsError::Verify(format!(
            "{} is not the {} device {major}:{minor}",
            what.display(),
            if char_dev { "character" } else { "block" }
        )));
    }
    Ok(())
}

/// Parent side, user namespaces only: detached mounts of the host's default device nodes and
/// of the config's devices (same path on the host), each verified.
pub fn prepare_host_devices(devices: &[LinuxDevice]) -> Result<Vec<HostDevice>, RootfsError> {
    let mut out = Vec::new();
    let defaults =
        DEFAULT_DEVICES.iter().map(|(n, ma, mi)| (PathBuf::from(format!("/dev/{n}")), true, *ma, *mi));
    let extra = devices.iter().filter_map(|d| {
        let char_dev = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => true,
            LinuxDeviceType::B => false,
            _ => return None,
        };
        Some((d.path().clone(), char_dev, d.major() as u32, d.minor() as u32))
    });
    for (path, char_dev, major, minor) in defaults.chain(extra) {
        let tree = smount::open_tree_path(&path, smount::OPEN_TREE_CLONE)
            .map_err(|e| RootfsError::io("open host device", &path, e))?;
        verify_node(tree.as_fd(), char_dev, major, minor, &path)?;
        out.push(HostDevice { path, tree });
    }
    Ok(out)
}

/// Child side: fills the fresh /dev (`dev` is its fd) and creates the config's devices.
pub fn populate(
    root: BorrowedFd,
    dev: BorrowedFd,
    host: &[HostDevice],
    devices: &[LinuxDevice],
    user_ns: bool,
) -> Result<(), RootfsError> {
    if user_ns {
        for d in host {
            let target = resolve::create(root, &d.path, Kind::File)
                .map_err(|e| RootfsError::io("create", &d.path, e))?;
            smount::move_mount(d.tree.as_fd(), target.as_fd())
                .map_err(|e| RootfsError::io("bind device", &d.path, e))?;
        }
    } else {
        for (name, major, minor) in DEFAULT_DEVICES {
            mknod(dev, OsStr::new(name), libc::S_IFCHR | 0o666, dev_t(major, minor))?;
        }
        for d in devices {
            create_config_device(root, d)?;
        }
    }
    for (name, target) in SYMLINKS {
        match sfs::symlinkat(OsStr::new(target), dev, OsStr::new(name)) {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
                return Err(RootfsError::io("create symlink", format!("/dev/{name}"), e))
            }
            _ => {}
        }
    }
    Ok(())
}

fn mknod(dir: BorrowedFd, name: &OsStr, mode: u32, dev: u64) -> Result<(), RootfsError> {
    let path = format!("/dev/{}", name.to_string_lossy());
    match sfs::mknodat(dir, name, mode, dev) {
        Err(e) if e.raw_os_error() != Some(libc::EEXIST) => Err(RootfsError::io("create device", path, e)),
        _ => Ok(()),
    }
}

fn create_config_device(root: BorrowedFd, d: &LinuxDevice) -> Result<(), RootfsError> {
    let kind = match d.typ() {
        LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
        LinuxDeviceType::B => libc::S_IFBLK,
        LinuxDeviceType::P => libc::S_IFIFO,
        LinuxDeviceType::A => {
            return Err(RootfsError::Config {
                field: "linux.devices".into(),
                reason: format!("{}: type 'a' is only valid in cgroup rules", d.path().display()),
            })
        }
    };
    let path = d.path();
    let norm = resolve::normalize(path);
    let (Some(parent), Some(name)) = (norm.parent(), norm.file_name()) else {
        return Err(RootfsError::Config {
            field: "linux.devices".into(),
            reason: format!("{path:?} is not a file path"),
        });
    };
    let pfd = resolve::mkdir_all(root, parent).map_err(|e| RootfsError::io("create", parent, e))?;
    let mode = d.file_mode().unwrap_or(0o666) & 0o7777;
    let dev = dev_t(d.major() as u32, d.minor() as u32);
    mknod(pfd.as_fd(), name, kind | mode, dev)?;
    let fd = sfs::openat2(
        pfd.as_fd(),
        Path::new(name),
        libc::O_PATH,
        0,
        sfs::RESOLVE_BENEATH | sfs::RESOLVE_NO_SYMLINKS,
    )
    .map_err(|e| RootfsError::io("open", path, e))?;
    let st = sfs::fstat(fd.as_fd()).map_err(|e| RootfsError::io("stat", path, e))?;
    if st.st_mode & libc::S_IFMT != kind || (kind != libc::S_IFIFO && st.st_rdev != dev) {
        return Err(RootfsError::Verify(format!(
            "{} exists in the image and is not the configured device",
            path.display()
        )));
    }
    let (uid, gid) = (d.uid().unwrap_or(0), d.gid().unwrap_or(0));
    // By name on the verified parent, without opening the node (opening a device can have
    // side effects) and without following symlinks.
    sfs::chown_at(pfd.as_fd(), name, uid, gid).map_err(|e| RootfsError::io("chown", path, e))?;
    sfs::chmod_at(pfd.as_fd(), name, mode).map_err(|e| RootfsError::io("chmod", path, e))?;
    Ok(())
}
