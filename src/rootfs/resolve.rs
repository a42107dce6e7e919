//! Path resolution inside the container's root, on fds only. Every lookup goes through
//! openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the root's fd, so a symlink in the
//! image (absolute, relative, `..`-laden) can never lead outside the rootfs, and magic links
//! (/proc/self/fd/N, /proc/self/exe, /proc/1/root) are refused. Missing directories and files
//! are created relative to the verified parent's fd and then re-opened without following
//! symlinks, so a component swapped for a symlink between the two calls fails the mount
//! instead of redirecting it (CVE-2021-30465, CVE-2024-45310).

use crate::sys::fs::{
    self as sfs, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
};
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

const IN_ROOT: u64 = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
/// For re-opening what we just created: one component, no symlinks at all.
const EXACT: u64 = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Lexically normalises `path` to a relative path without `.`/`..` (clamped at the root, as
/// the kernel does for RESOLVE_IN_ROOT).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

fn rel(path: &Path) -> PathBuf {
    let n = normalize(path);
    if n.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        n
    }
}

/// Opens `path` inside `root` as an O_PATH fd (plus `flags`), symlinks followed only within
/// the root.
pub fn open(root: BorrowedFd, path: &Path, flags: i32) -> io::Result<OwnedFd> {
    sfs::openat2(root, &rel(path), libc::O_PATH | flags, 0, IN_ROOT)
}

/// Opens `path` inside `root` with real access flags (O_RDONLY, O_WRONLY...).
pub fn open_rw(root: BorrowedFd, path: &Path, flags: i32) -> io::Result<OwnedFd> {
    sfs::openat2(root, &rel(path), flags, 0, IN_ROOT)
}

/// Opens `path` inside `root` refusing symlinks anywhere on the way: for proc and sysfs, which
/// must land on a real directory of the image (CVE-2019-19921, CVE-2023-27561).
pub fn open_no_symlinks(root: BorrowedFd, path: &Path, flags: i32) -> io::Result<OwnedFd> {
    sfs::openat2(root, &rel(path), libc::O_PATH | flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS)
}

fn is_dir(fd: BorrowedFd) -> io::Result<bool> {
    Ok(sfs::fstat(fd)?.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// Opens directory `path` inside `root`, creating missing components (mode 0755). A component
/// that is a dangling symlink gets its target created, inside the root, as runc does.
pub fn mkdir_all(root: BorrowedFd, path: &Path) -> io::Result<OwnedFd> {
    mkdir_all_depth(root, path, 0)
}

/// Symlinks followed while creating one path, as the kernel's own limit.
const MAX_LINKS: u32 = 40;

fn mkdir_all_depth(root: BorrowedFd, path: &Path, depth: u32) -> io::Result<OwnedFd> {
    if depth > MAX_LINKS {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    let norm = normalize(path);
    let mut cur = open(root, Path::new("."), libc::O_DIRECTORY)?;
    let mut prefix = PathBuf::new();
    for comp in norm.components() {
        let Component::Normal(name) = comp else { continue };
        let parent = prefix.clone();
        prefix.push(name);
        cur = match open(root, &prefix, libc::O_DIRECTORY) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                match create_one(cur.as_fd(), name, Kind::Dir) {
                    Ok(fd) => fd,
                    Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                        // A dangling symlink: create what it points to (clamped inside the root),
                        // then go through it.
                        let target = sfs::readlinkat(cur.as_fd(), Path::new(name))?;
                        mkdir_all_depth(root, &parent.join(target), depth + 1)?;
                        open(root, &prefix, libc::O_DIRECTORY)?
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}

/// Creates `name` in the directory `dir` (tolerating a concurrent create of the same kind) and
/// opens exactly that entry, refusing it if it became a symlink in between.
fn create_one(dir: BorrowedFd, name: &OsStr, kind: Kind) -> io::Result<OwnedFd> {
    let made = match kind {
        Kind::Dir => sfs::mkdirat(dir, name, 0o755),
        Kind::File => sfs::openat(
            Some(dir),
            Path::new(name),
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW,
            0o644,
        )
        .map(drop),
    };
    match made {
        Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(e),
        _ => {}
    }
    let flags = libc::O_PATH | if kind == Kind::Dir { libc::O_DIRECTORY } else { 0 };
    sfs::openat2(dir, Path::new(name), flags, 0, EXACT)
}

/// Opens `path` inside `root` as a `kind`, creating it (and its parents) when missing. An
/// existing entry of the other kind is an error. Used for every mount destination.
pub fn create(root: BorrowedFd, path: &Path, kind: Kind) -> io::Result<OwnedFd> {
    match open(root, path, 0) {
        Ok(fd) => {
            let dir = is_dir(fd.as_fd())?;
            if dir != (kind == Kind::Dir) {
                let what = if dir { "is a directory" } else { "is not a directory" };
                return Err(io::Error::new(io::ErrorKind::InvalidInput, what));
            }
            return Ok(fd);
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(e),
    }
    if kind == Kind::Dir {
        return mkdir_all(root, path);
    }
    let norm = normalize(path);
    let (Some(parent), Some(name)) = (norm.parent(), norm.file_name()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is the root itself"));
    };
    let pfd = mkdir_all(root, parent)?;
    create_one(pfd.as_fd(), name, kind).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => io::Error::new(e.kind(), "is a dangling symlink (or was swapped for one)"),
        _ => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn tmp(name: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("scutum-resolve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.join("root")).unwrap();
        Tmp(p)
    }
    fn root_fd(t: &Tmp) -> OwnedFd {
        sfs::openat(None, &t.0.join("root"), libc::O_PATH | libc::O_DIRECTORY, 0).unwrap()
    }

    #[test]
    fn normalize_clamps_at_root() {
        assert_eq!(normalize(Path::new("/a/../../b/./c")), PathBuf::from("b/c"));
        assert_eq!(normalize(Path::new("/")), PathBuf::new());
    }

    #[test]
    fn absolute_symlink_stays_inside_root() {
        // Attack: the image's /etc is a symlink to the host's /etc.
        let t = tmp("abs");
        symlink("/", t.0.join("root/escape")).unwrap();
        let fd = create(root_fd(&t).as_fd(), Path::new("/escape/created-by-test"), Kind::Dir).unwrap();
        assert!(t.0.join("root/created-by-test").is_dir());
        assert!(!Path::new("/created-by-test").exists());
        drop(fd);
    }

    #[test]
    fn dotdot_symlink_stays_inside_root() {
        let t = tmp("dotdot");
        symlink("../../../../outside", t.0.join("root/up")).unwrap();
        create(root_fd(&t).as_fd(), Path::new("/up/x"), Kind::File).unwrap();
        assert!(t.0.join("root/outside/x").is_file());
        assert!(!t.0.join("outside").exists());
    }

    #[test]
    fn magic_links_are_refused() {
        let t = tmp("magic");
        symlink("/proc/self/root", t.0.join("root/selfroot")).unwrap();
        // In-root resolution turns /proc/self/root into <root>/proc/..., which does not exist;
        // a real procfs magic link is refused with ELOOP.
        let proc_fd = sfs::openat(None, Path::new("/proc"), libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        let e = open(proc_fd.as_fd(), Path::new("self/root/etc"), 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn kind_mismatch_and_dangling_symlinks_fail() {
        let t = tmp("kind");
        std::fs::create_dir(t.0.join("root/d")).unwrap();
        assert!(create(root_fd(&t).as_fd(), Path::new("/d"), Kind::File).is_err());
        symlink("/nonexistent/target", t.0.join("root/dangling")).unwrap();
        let e = create(root_fd(&t).as_fd(), Path::new("/dangling"), Kind::File).unwrap_err();
        assert!(e.to_string().contains("dangling"), "{e}");
    }

    #[test]
    fn no_symlinks_mode_refuses_symlinked_proc() {
        let t = tmp("proc");
        symlink("/tmp", t.0.join("root/proc")).unwrap();
        let e = open_no_symlinks(root_fd(&t).as_fd(), Path::new("/proc"), libc::O_DIRECTORY).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }
}
