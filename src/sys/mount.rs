//! The new mount API (open_tree, move_mount, fsopen/fsconfig/fsmount, mount_setattr) plus the
//! few classic calls still needed (propagation changes, pivot_root, umount2). Every mount scutum
//! makes is built detached, configured on its fd, and attached onto a destination fd, so no path
//! string is ever resolved twice (CVE-2021-30465).

use super::{check, check_long, cstr};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

pub const OPEN_TREE_CLONE: u32 = 1;
pub const AT_RECURSIVE: u32 = 0x8000;
const OPEN_TREE_CLOEXEC: u32 = libc::O_CLOEXEC as u32;

const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

const FSOPEN_CLOEXEC: u32 = 1;
const FSMOUNT_CLOEXEC: u32 = 1;
const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;

pub const MOUNT_ATTR_RDONLY: u64 = 0x01;
pub const MOUNT_ATTR_NOSUID: u64 = 0x02;
pub const MOUNT_ATTR_NODEV: u64 = 0x04;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x08;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x00;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x0020_0000;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
#[derive(Default)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the caller passes a fd the kernel just returned to us and nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// open_tree(2) on the object `fd` refers to. With OPEN_TREE_CLONE the result is a detached copy
/// of that mount (and with AT_RECURSIVE, of its submounts) that we configure before attaching.
pub fn open_tree_fd(fd: BorrowedFd, flags: u32) -> io::Result<OwnedFd> {
    // SAFETY: "" is a valid C string; AT_EMPTY_PATH makes the call act on `fd` itself.
    let ret = check_long(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags | OPEN_TREE_CLOEXEC | libc::AT_EMPTY_PATH as u32,
        )
    })?;
    Ok(owned(ret))
}

/// open_tree(2) on a host path (only for sources the runtime itself trusts: bind sources named
/// by the config are resolved on the host, where the bundle has no say).
pub fn open_tree_path(path: &Path, flags: u32) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let ret = check_long(unsafe {
        libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags | OPEN_TREE_CLOEXEC)
    })?;
    Ok(owned(ret))
}

/// Attaches the detached (or attached) mount `mnt` onto the object `target` refers to.
pub fn move_mount(mnt: BorrowedFd, target: BorrowedFd) -> io::Result<()> {
    // SAFETY: both paths are "" with the *_EMPTY_PATH flags, so only the fds are used.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// A file system context from fsopen(2), configured with [`FsContext::set`] and turned into a
/// detached mount with [`FsContext::mount`].
pub struct FsContext {
    fd: OwnedFd,
}

impl FsContext {
    pub fn open(fstype: &str) -> io::Result<Self> {
        let c = cstr(fstype)?;
        // SAFETY: `c` is a valid NUL-terminated string.
        let ret = check_long(unsafe { libc::syscall(libc::SYS_fsopen, c.as_ptr(), FSOPEN_CLOEXEC) })?;
        Ok(FsContext { fd: owned(ret) })
    }

    /// Sets a `key=value` option, or a flag option when `value` is `None`.
    pub fn set(&self, key: &str, value: Option<&str>) -> io::Result<()> {
        let k = cstr(key)?;
        let v = value.map(cstr).transpose()?;
        let (cmd, vptr) = match &v {
            Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
            None => (FSCONFIG_SET_FLAG, std::ptr::null()),
        };
        // SAFETY: `k` and `v` are valid C strings that outlive the call; FSCONFIG_SET_FLAG takes
        // a NULL value.
        check_long(unsafe {
            libc::syscall(libc::SYS_fsconfig, self.fd.as_raw_fd(), cmd, k.as_ptr(), vptr, 0)
        })
        .map(drop)
    }

    /// Creates the super block and returns a detached mount of it with `attrs` (MOUNT_ATTR_*).
    pub fn mount(self, attrs: u64) -> io::Result<OwnedFd> {
        // SAFETY: FSCONFIG_CMD_CREATE takes no key or value.
        check_long(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_void>(),
                0,
            )
        })?;
        // SAFETY: plain syscall on our context fd.
        let ret = check_long(unsafe {
            libc::syscall(libc::SYS_fsmount, self.fd.as_raw_fd(), FSMOUNT_CLOEXEC, attrs as libc::c_uint)
        })?;
        Ok(owned(ret))
    }

    /// The error text the file system logged into the context, if any ("e <message>").
    pub fn last_message(&self) -> Option<String> {
        let mut buf = [0u8; 512];
        let n = super::fs::read(&self.fd, &mut buf).ok()?;
        let s = String::from_utf8_lossy(&buf[..n]).trim().to_string();
        (!s.is_empty()).then_some(s)
    }
}

/// mount_setattr(2) on the mount `fd` refers to: sets `set`, clears `clear` (MOUNT_ATTR_*), with
/// `recursive` applying to all submounts. Works on detached mounts, which is how ro/nosuid/...
/// really reach a bind mount (a classic MS_BIND ignores them).
pub fn setattr(fd: BorrowedFd, set: u64, clear: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr { attr_set: set, attr_clr: clear, ..Default::default() };
    call_setattr(fd, &attr, recursive)
}

/// Turns the detached mount `fd` into an idmapped mount that maps file ownership through the
/// user namespace `userns` (MOUNT_ATTR_IDMAP, Linux >= 5.12).
pub fn set_idmap(fd: BorrowedFd, userns: BorrowedFd, recursive: bool) -> io::Result<()> {
    let attr =
        MountAttr { attr_set: MOUNT_ATTR_IDMAP, userns_fd: userns.as_raw_fd() as u64, ..Default::default() };
    call_setattr(fd, &attr, recursive)
}

/// Sets the propagation type (MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE) of the mount `fd`.
pub fn set_propagation(fd: BorrowedFd, propagation: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr { propagation, ..Default::default() };
    call_setattr(fd, &attr, recursive)
}

fn call_setattr(fd: BorrowedFd, attr: &MountAttr, recursive: bool) -> io::Result<()> {
    let flags = libc::AT_EMPTY_PATH as u32 | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: `attr` is a live mount_attr of the size we pass; "" with AT_EMPTY_PATH acts on fd.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// Classic mount(2) with no source or type: only for propagation changes of existing mounts
/// (MS_REC|MS_SLAVE on "/"), which the new API expresses the same way.
pub fn change_propagation(target: &Path, flags: u64) -> io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: `t` is a valid C string; NULL source, type and data are allowed for this form.
    check(unsafe {
        libc::mount(std::ptr::null(), t.as_ptr(), std::ptr::null(), flags as libc::c_ulong, std::ptr::null())
    })
    .map(drop)
}

pub fn umount2(target: &Path, flags: i32) -> io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: `t` is a valid C string.
    check(unsafe { libc::umount2(t.as_ptr(), flags) }).map(drop)
}

/// pivot_root(".", "."): with the new root as cwd, stacks the old root on top of it so a
/// following umount2(".", MNT_DETACH) removes the host's tree from the container's view.
pub fn pivot_root_dot() -> io::Result<()> {
    // SAFETY: both arguments are valid C strings.
    check_long(unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) }).map(drop)
}

/// chroot("."), used only when --no-pivot asks for it (e.g. on a ramfs root).
pub fn chroot_dot() -> io::Result<()> {
    // SAFETY: a valid C string.
    check(unsafe { libc::chroot(c".".as_ptr()) }).map(drop)
}
