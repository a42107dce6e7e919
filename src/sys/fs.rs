//! File-descriptor based file system calls: openat2 with its RESOLVE_* scoping, *at() calls
//! relative to verified directory fds, fstat/fstatfs for verifying what an fd really is.

use super::{check, check_long, cstr, retry};
use std::ffi::OsStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// `RESOLVE_*` flags of openat2(2) (linux/openat2.h); defined here so we do not depend on which
/// libc release exports them.
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

/// `struct open_how` of openat2(2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(2): opens `path` relative to `dir` under the `resolve` scoping rules. With
/// `RESOLVE_IN_ROOT` the kernel treats `dir` as the root for `..` and absolute symlinks, so a
/// hostile rootfs cannot walk us out of it (CVE-2018-15664 class of bugs).
pub fn openat2(dir: BorrowedFd, path: &Path, flags: i32, mode: u32, resolve: u64) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    let how = OpenHow {
        // O_CLOEXEC always: no fd of ours may leak across an execve (CVE-2024-21626).
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve,
    };
    let fd = retry(|| {
        // SAFETY: `c` is a valid NUL-terminated string and `how` a live, correctly sized
        // open_how for the duration of the call.
        check_long(unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        })
    })?;
    // SAFETY: openat2 returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// openat(2) relative to `dir` (or the cwd with `None`), always O_CLOEXEC.
pub fn openat(dir: Option<BorrowedFd>, path: &Path, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    let fd = retry(|| {
        // SAFETY: `c` is a valid NUL-terminated string.
        check(unsafe { libc::openat(dirfd, c.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint) })
    })?;
    // SAFETY: openat returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Re-opens an O_PATH fd with real access `flags` through /proc/self/fd, the only way to turn a
/// verified O_PATH handle into a readable or writable one without resolving a path again.
/// `proc_fd` must be a verified procfs root (see [`is_procfs`]).
pub fn reopen(proc_fd: BorrowedFd, fd: BorrowedFd, flags: i32) -> io::Result<OwnedFd> {
    // openat2's scoping flags all forbid magic links, and following this one is the point; the
    // walk starts at a procfs root we verified, so "self/fd/N" cannot be redirected.
    let p = format!("self/fd/{}", fd.as_raw_fd());
    openat(Some(proc_fd), Path::new(&p), flags, 0)
}

pub fn mkdirat(dir: BorrowedFd, name: &OsStr, mode: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

pub fn mknodat(dir: BorrowedFd, name: &OsStr, mode: u32, dev: u64) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t, dev as libc::dev_t) })
        .map(drop)
}

pub fn symlinkat(target: &OsStr, dir: BorrowedFd, name: &OsStr) -> io::Result<()> {
    let t = cstr(target)?;
    let n = cstr(name)?;
    // SAFETY: both are valid NUL-terminated strings.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) }).map(drop)
}

pub fn unlinkat(dir: Option<BorrowedFd>, name: &Path, flags: i32) -> io::Result<()> {
    let c = cstr(name)?;
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::unlinkat(dirfd, c.as_ptr(), flags) }).map(drop)
}

pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

pub fn fchown(fd: BorrowedFd, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: plain syscall on a valid fd.
    check(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) }).map(drop)
}

pub fn fchmod(fd: BorrowedFd, mode: u32) -> io::Result<()> {
    // SAFETY: plain syscall on a valid fd.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// fstat(2) that also works on O_PATH fds (via AT_EMPTY_PATH).
pub fn fstat(fd: BorrowedFd) -> io::Result<libc::stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: "" is a valid C string and `st` points to writable memory of the right size.
    check(unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), st.as_mut_ptr(), libc::AT_EMPTY_PATH) })?;
    // SAFETY: fstatat succeeded, so it filled `st`.
    Ok(unsafe { st.assume_init() })
}

/// The file system magic number of what `fd` is on (fstatfs(2)). (f_type is i64 in glibc's
/// bindings and u64 in musl's.)
#[allow(clippy::unnecessary_cast)]
pub fn fs_magic(fd: BorrowedFd) -> io::Result<i64> {
    let mut st = MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `st` points to writable memory of the right size.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstatfs succeeded, so it filled `st`.
    Ok(unsafe { st.assume_init() }.f_type as i64)
}

/// Mount flags (ST_RDONLY, ST_NOSUID, ...) of the mount `fd` is on (fstatvfs(3)).
pub fn mount_flags(fd: BorrowedFd) -> io::Result<u64> {
    let mut st = MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `st` points to writable memory of the right size.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstatvfs succeeded, so it filled `st`.
    Ok(unsafe { st.assume_init() }.f_flag)
}

pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
pub const TMPFS_MAGIC: i64 = 0x0102_1994;
pub const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
pub const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// True when `fd` lives on a procfs: writes to /proc/sys and friends go only through such a
/// verified fd, so a container that over-mounts /proc cannot redirect them (CVE-2025-52881).
pub fn is_procfs(fd: BorrowedFd) -> io::Result<bool> {
    Ok(fs_magic(fd)? == PROC_SUPER_MAGIC)
}

pub fn fchdir(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: plain syscall on a valid fd.
    check(unsafe { libc::fchdir(fd.as_raw_fd()) }).map(drop)
}

pub fn chdir(path: &Path) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::chdir(c.as_ptr()) }).map(drop)
}

/// Marks every fd from `first` up close-on-exec (close_range(2) with CLOSE_RANGE_CLOEXEC), so
/// the container's program starts with only the fds we chose (CVE-2024-21626).
pub fn cloexec_from(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes fd flags; no memory is passed.
    check_long(unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) })
        .map(drop)
}

/// Clears O_CLOEXEC on `fd` so it survives execve (for --preserve-fds and stdio).
pub fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_SETFD on an fd number; an invalid fd yields EBADF, nothing else.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }).map(drop)
}

/// dup2(2) keeping the target inheritable.
pub fn dup2(from: BorrowedFd, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 only manipulates the fd table.
    check(unsafe { libc::dup2(from.as_raw_fd(), to) }).map(drop)
}

/// Reads the target of the symlink `name` in `dir`.
pub fn readlinkat(dir: BorrowedFd, name: &Path) -> io::Result<std::path::PathBuf> {
    let c = cstr(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is writable for its whole length.
    let n = check_long(unsafe {
        libc::readlinkat(dir.as_raw_fd(), c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) as libc::c_long
    })?;
    buf.truncate(n as usize);
    Ok(std::path::PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(buf)))
}

/// Writes all of `data` to `fd` (a write(2) loop).
pub fn write_all(fd: impl AsFd, data: &[u8]) -> io::Result<()> {
    let mut off = 0;
    while off < data.len() {
        let rest = &data[off..];
        let n = retry(|| {
            // SAFETY: `rest` is readable for its whole length.
            check_long(unsafe {
                libc::write(fd.as_fd().as_raw_fd(), rest.as_ptr().cast(), rest.len()) as libc::c_long
            })
        })?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        off += n as usize;
    }
    Ok(())
}

/// One read(2) into `buf`, retried on EINTR.
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    retry(|| {
        // SAFETY: `buf` is writable for its whole length.
        check_long(unsafe {
            libc::read(fd.as_fd().as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) as libc::c_long
        })
    })
    .map(|n| n as usize)
}

/// Applies flock(2) `op` (LOCK_EX, LOCK_SH, with LOCK_NB) to `fd`.
pub fn flock(fd: BorrowedFd, op: i32) -> io::Result<()> {
    // SAFETY: plain syscall on a valid fd.
    retry(|| check(unsafe { libc::flock(fd.as_raw_fd(), op) })).map(drop)
}

/// Sets the process umask, returning the old one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// An anonymous in-memory file (memfd_create), for capturing a child's output without pipes
/// that could fill up and deadlock.
pub fn memfd(name: &str) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: `c` is a valid C string.
    let fd = check(unsafe { libc::memfd_create(c.as_ptr(), libc::MFD_CLOEXEC) })?;
    // SAFETY: a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// fchownat(2) on `name` in `dir`, never following a symlink.
pub fn chown_at(dir: BorrowedFd, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::fchownat(dir.as_raw_fd(), c.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) })
        .map(drop)
}

/// fchmodat(2) on `name` in `dir` (the caller has verified it is not a symlink).
pub fn chmod_at(dir: BorrowedFd, name: &OsStr, mode: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    check(unsafe { libc::fchmodat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t, 0) }).map(drop)
}

/// Opens /dev/null onto any of fds 0, 1, 2 that is closed, so no fd we open later can land
/// there and be handed to a container as its stdio.
pub fn ensure_stdio() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only inspects the fd table.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: a valid C string; open(2) returns the lowest free fd, which is `fd`.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

/// Closes every fd of this process except 0, 1, 2 and those in `keep` (close_range over the
/// gaps). The container's init calls this right after clone, so it never holds a host fd it
/// did not ask for: no state-dir lock, no host cwd, no host /proc.
pub fn close_all_except(keep: &[RawFd]) -> io::Result<()> {
    let mut keep: Vec<u32> = keep.iter().filter(|&&fd| fd > 2).map(|&fd| fd as u32).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first = 3u32;
    for k in keep.into_iter().chain(std::iter::once(u32::MAX)) {
        if k > first {
            // SAFETY: close_range only closes fds; the ones we keep are outside the range.
            check_long(unsafe { libc::syscall(libc::SYS_close_range, first, k - 1, 0) })?;
        }
        first = k.saturating_add(1);
    }
    Ok(())
}

/// A sealed in-memory file holding `content`: once sealed it can never be written, grown or
/// shrunk again, whoever gets hold of it (through /proc/<pid>/exe, say).
pub fn sealed_memfd(name: &str, content: &[u8]) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: `c` is a valid C string.
    let fd = check(unsafe { libc::memfd_create(c.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) })?;
    // SAFETY: a new fd that only we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    write_all(&fd, content)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS takes an integer argument.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) })?;
    Ok(fd)
}

/// Reads a small file whole with as few syscalls as possible (open, one read, close): procfs,
/// cgroupfs and state files are read on every `state` and `list`, and std's reads (a size
/// probe, growing buffers, a read to see EOF) cost several syscalls each. A read shorter than
/// the buffer is the end for a regular file and for these pseudo files alike.
pub fn read_small(path: &Path) -> io::Result<Vec<u8>> {
    read_small_with(path, <[u8]>::to_vec)
}

/// [`read_small`] that hands the bytes to `f` instead of returning them: a file that fits in
/// 4 KiB never reaches the heap. `list` reads two small files per container, and musl's
/// allocator unmapped and re-mapped a page group for those buffers about every third container
/// (strace of `list` with 200 containers: 67 mmap/munmap pairs).
///
/// What is read here is state.json and kernel files, but a FIFO or a device put in a state
/// file's place must not hang or exhaust the runtime: O_NONBLOCK makes a FIFO open (and read
/// empty) at once, O_NOCTTY keeps a terminal from becoming ours, and more than
/// [`READ_SMALL_MAX`] bytes (`/dev/zero`) is an error.
pub fn read_small_with<T>(path: &Path, f: impl FnOnce(&[u8]) -> T) -> io::Result<T> {
    let fd = openat(None, path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY, 0)?;
    let mut first = [0u8; 4096];
    let n = read(&fd, &mut first)?;
    if n < first.len() {
        return Ok(f(&first[..n]));
    }
    let mut out = first.to_vec();
    let mut chunk = [0u8; 4096];
    loop {
        let m = read(&fd, &mut chunk)?;
        if m == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..m]);
        if out.len() > READ_SMALL_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("more than {READ_SMALL_MAX} bytes: not a state or kernel file"),
            ));
        }
    }
    Ok(f(&out))
}

/// The most [`read_small`] reads (state.json is well under 64 KiB even with hooks).
pub const READ_SMALL_MAX: usize = 1 << 20;
