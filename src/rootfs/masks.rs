//! maskedPaths, readonlyPaths and the read-only root, applied after pivot_root and checked
//! after each step.
//!
//! - A masked file is covered by a bind of the container's *own fresh* /dev/null, and only
//!   after fstat proves it is the character device 1:3: an image that replaced /dev/null with a
//!   symlink to a procfs file cannot make us bind something writable over /proc (CVE-2025-31133).
//! - A masked directory is covered by an empty read-only tmpfs.
//! - A read-only path is re-bound onto itself with MOUNT_ATTR_RDONLY set through
//!   mount_setattr, which (unlike MS_BIND|MS_REMOUNT) cannot be silently ignored.
//!
//! Each result is verified (device numbers, file system magic, ST_RDONLY) before going on.

use super::resolve;
use super::RootfsError;
use crate::sys::{fs as sfs, mount as smount};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Opens the container's /dev/null and proves it is the null device.
fn dev_null(root: BorrowedFd) -> Result<OwnedFd, RootfsError> {
    let p = Path::new("/dev/null");
    let fd = sfs::openat2(
        root,
        Path::new("dev/null"),
        libc::O_PATH | libc::O_NOFOLLOW,
        0,
        sfs::RESOLVE_BENEATH | sfs::RESOLVE_NO_SYMLINKS,
    )
    .map_err(|e| RootfsError::io("open", p, e))?;
    super::dev::verify_node(fd.as_fd(), true, 1, 3, p)?;
    Ok(fd)
}

fn is_dir(fd: BorrowedFd, path: &Path) -> Result<bool, RootfsError> {
    let st = sfs::fstat(fd).map_err(|e| RootfsError::io("stat", path, e))?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// Opens a masked/read-only path if it exists (a missing one has nothing to hide).
fn open_existing(root: BorrowedFd, path: &Path) -> Result<Option<OwnedFd>, RootfsError> {
    match resolve::open(root, path, 0) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(RootfsError::io("open", path, e)),
    }
}

pub fn mask(root: BorrowedFd, paths: &[String]) -> Result<(), RootfsError> {
    if paths.is_empty() {
        return Ok(());
    }
    let null = dev_null(root)?;
    for p in paths {
        let path = Path::new(p);
        let Some(target) = open_existing(root, path)? else { continue };
        if is_dir(target.as_fd(), path)? {
            let ctx =
                smount::FsContext::open("tmpfs").map_err(|e| RootfsError::io("create tmpfs for", path, e))?;
            let m = ctx
                .mount(
                    smount::MOUNT_ATTR_RDONLY
                        | smount::MOUNT_ATTR_NOSUID
                        | smount::MOUNT_ATTR_NODEV
                        | smount::MOUNT_ATTR_NOEXEC,
                )
                .map_err(|e| RootfsError::io("mount tmpfs for", path, e))?;
            smount::move_mount(m.as_fd(), target.as_fd()).map_err(|e| RootfsError::io("mask", path, e))?;
            verify_masked_dir(root, path)?;
        } else {
            let m = smount::open_tree_fd(null.as_fd(), smount::OPEN_TREE_CLONE)
                .map_err(|e| RootfsError::io("clone /dev/null for", path, e))?;
            smount::move_mount(m.as_fd(), target.as_fd()).map_err(|e| RootfsError::io("mask", path, e))?;
            let now = resolve::open(root, path, 0).map_err(|e| RootfsError::io("re-open", path, e))?;
            super::dev::verify_node(now.as_fd(), true, 1, 3, path)
                .map_err(|_| RootfsError::Verify(format!("masking {p} did not leave /dev/null over it")))?;
        }
    }
    Ok(())
}

fn verify_masked_dir(root: BorrowedFd, path: &Path) -> Result<(), RootfsError> {
    let now =
        resolve::open(root, path, libc::O_DIRECTORY).map_err(|e| RootfsError::io("re-open", path, e))?;
    let magic = sfs::fs_magic(now.as_fd()).map_err(|e| RootfsError::io("statfs", path, e))?;
    let flags = sfs::mount_flags(now.as_fd()).map_err(|e| RootfsError::io("statvfs", path, e))?;
    if magic != sfs::TMPFS_MAGIC || flags & libc::ST_RDONLY == 0 {
        return Err(RootfsError::Verify(format!(
            "masking {} did not leave a read-only tmpfs over it",
            path.display()
        )));
    }
    Ok(())
}

pub fn make_readonly(root: BorrowedFd, paths: &[String]) -> Result<(), RootfsError> {
    for p in paths {
        let path = Path::new(p);
        let Some(target) = open_existing(root, path)? else { continue };
        let m = smount::open_tree_fd(target.as_fd(), smount::OPEN_TREE_CLONE | smount::AT_RECURSIVE)
            .map_err(|e| RootfsError::io("bind", path, e))?;
        let attrs = smount::MOUNT_ATTR_RDONLY
            | smount::MOUNT_ATTR_NOSUID
            | smount::MOUNT_ATTR_NODEV
            | smount::MOUNT_ATTR_NOEXEC;
        smount::setattr(m.as_fd(), attrs, 0, true).map_err(|e| RootfsError::io("make read-only", path, e))?;
        smount::move_mount(m.as_fd(), target.as_fd())
            .map_err(|e| RootfsError::io("mount read-only", path, e))?;
        verify_readonly(root, path)?;
    }
    Ok(())
}

fn verify_readonly(root: BorrowedFd, path: &Path) -> Result<(), RootfsError> {
    let now = resolve::open(root, path, 0).map_err(|e| RootfsError::io("re-open", path, e))?;
    let flags = sfs::mount_flags(now.as_fd()).map_err(|e| RootfsError::io("statvfs", path, e))?;
    if flags & libc::ST_RDONLY == 0 {
        return Err(RootfsError::Verify(format!(
            "{} is still writable after making it read-only",
            path.display()
        )));
    }
    Ok(())
}

/// Makes the container's root mount read-only (root.readonly) and checks that it is.
pub fn readonly_root(root: BorrowedFd) -> Result<(), RootfsError> {
    smount::setattr(root, smount::MOUNT_ATTR_RDONLY, 0, false)
        .map_err(|e| RootfsError::io("make read-only", "/", e))?;
    verify_readonly(root, Path::new("/"))
}
