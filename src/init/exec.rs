//! The last preparations of the user's program: its cwd, environment, executable, credentials
//! and fds.

use crate::rootfs::resolve::{self, Kind};
use crate::sys::{self, fs as sfs};
use oci_spec::runtime::Process;
use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn magic_link_error(field: &str, p: &Path) -> String {
    format!("{field}: {} resolves through a /proc magic link (or a symlink loop); refusing it", p.display())
}

/// Enters `cwd` inside the root: created when missing (as runc does), opened in-root so it is
/// always inside the container, and refused if it goes through a /proc magic link such as
/// /proc/self/fd/N, which could point at a host directory (CVE-2024-21626).
pub fn enter_cwd(root: BorrowedFd, cwd: &Path) -> Result<OwnedFd, String> {
    // Whatever is under /proc is the kernel's, not the image's: never a working directory,
    // even when the magic link itself is gone (a closed fd) and the lookup says ENOENT.
    if resolve::normalize(cwd).starts_with("proc") {
        return Err(magic_link_error("process.cwd", cwd));
    }
    let fd = match resolve::open(root, cwd, libc::O_DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => resolve::create(root, cwd, Kind::Dir)
            .map_err(|e| format!("process.cwd: cannot create {}: {e}", cwd.display()))?,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(magic_link_error("process.cwd", cwd)),
        Err(e) => return Err(format!("process.cwd: {}: {e}", cwd.display())),
    };
    sfs::fchdir(fd.as_fd()).map_err(|e| format!("process.cwd: cannot enter {}: {e}", cwd.display()))?;
    Ok(fd)
}

/// The value of `name` in a NAME=value list.
pub fn lookup_env<'a>(env: &'a [String], name: &str) -> Option<&'a str> {
    env.iter().rev().find_map(|e| e.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
}

/// process.env, plus HOME from the container's /etc/passwd when the config does not set it
/// (runc does the same; read in-root, no NSS).
pub fn environment(root: BorrowedFd, p: &Process) -> Vec<String> {
    let mut env = p.env().clone().unwrap_or_default();
    if lookup_env(&env, "HOME").is_none() {
        let home = passwd_home(root, p.user().uid()).unwrap_or_else(|| "/".into());
        env.push(format!("HOME={home}"));
    }
    env
}

fn passwd_home(root: BorrowedFd, uid: u32) -> Option<String> {
    let fd = resolve::open_rw(root, Path::new("/etc/passwd"), libc::O_RDONLY).ok()?;
    let mut text = String::new();
    std::fs::File::from(fd).take(1 << 20).read_to_string(&mut text).ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2].parse::<u32>().ok()? == uid).then(|| f[5].to_string())
    })
}

fn is_executable(fd: BorrowedFd) -> bool {
    sfs::fstat(fd).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_mode & 0o111 != 0)
}

/// Finds the program like execvp: args[0] with a '/' is used as given (relative to the cwd);
/// otherwise each $PATH entry is tried. Every candidate is opened in-root without magic links:
/// args[0] = /proc/self/exe (the runtime binary, CVE-2019-5736) is refused.
pub fn lookup(root: BorrowedFd, cwd: BorrowedFd, args: &[String], env: &[String]) -> Result<CString, String> {
    let prog = &args[0];
    let candidates: Vec<PathBuf> = if prog.contains('/') {
        vec![PathBuf::from(prog)]
    } else {
        let path = lookup_env(env, "PATH").unwrap_or(DEFAULT_PATH);
        path.split(':').map(|d| Path::new(if d.is_empty() { "." } else { d }).join(prog)).collect()
    };
    for c in &candidates {
        let base = if c.is_absolute() { root } else { cwd };
        let opened =
            sfs::openat2(base, c, libc::O_PATH, 0, sfs::RESOLVE_IN_ROOT | sfs::RESOLVE_NO_MAGICLINKS);
        match opened {
            Ok(fd) if is_executable(fd.as_fd()) => {
                // The absolute form keeps the path meaningful after we leave the cwd alone.
                return CString::new(c.as_os_str().as_bytes())
                    .map_err(|_| format!("process.args[0]: {prog:?} contains NUL"));
            }
            Ok(_) if prog.contains('/') => {
                return Err(format!("exec: {prog:?}: permission denied (not an executable file)"));
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) && prog.contains('/') => {
                return Err(magic_link_error("process.args[0]", c));
            }
            _ => {}
        }
    }
    if prog.contains('/') {
        Err(format!("exec: {prog:?}: no such file or directory"))
    } else {
        Err(format!("exec: {prog:?}: executable file not found in $PATH"))
    }
}

/// Bounding set, then user and groups (keeping capabilities across the uid change), then the
/// capability sets the config asks for.
pub fn drop_privileges(p: &Process) -> Result<(), String> {
    let caps = p.capabilities().as_ref();
    crate::caps::apply_bounding(caps).map_err(|e| format!("process.capabilities.bounding: {e}"))?;
    sys::process::set_keepcaps(true).map_err(|e| format!("cannot keep capabilities: {e}"))?;
    let u = p.user();
    let groups = u.additional_gids().clone().unwrap_or_default();
    sys::process::setgroups(&groups)
        .map_err(|e| format!("process.user.additionalGids: cannot set {groups:?}: {e}"))?;
    sys::process::setresgid(u.gid()).map_err(|e| format!("process.user.gid: cannot set {}: {e}", u.gid()))?;
    sys::process::setresuid(u.uid()).map_err(|e| format!("process.user.uid: cannot set {}: {e}", u.uid()))?;
    sys::process::set_keepcaps(false).map_err(|e| format!("cannot reset keepcaps: {e}"))?;
    crate::caps::apply_sets(caps).map_err(|e| format!("process.capabilities: {e}"))
}

/// Leaves the container exactly fds 0, 1, 2 and the preserved 3..3+n: every other fd of ours
/// is close-on-exec (CVE-2024-21626), the preserved ones are not.
pub fn prepare_fds(preserve: u32) -> Result<(), String> {
    for fd in 3..3 + preserve as i32 {
        sfs::clear_cloexec(fd).map_err(|e| format!("--preserve-fds: fd {fd}: {e}"))?;
    }
    sfs::cloexec_from(3 + preserve).map_err(|e| format!("cannot mark fds close-on-exec: {e}"))
}

/// The steps from rlimits to execve that the container's init and every `exec`'d process
/// share, in this order: rlimits; seccomp now if no_new_privs is off (the kernel only lets a
/// caller with CAP_SYS_ADMIN in its user namespace install a filter without no_new_privs, and
/// we are about to drop it; as runc does); bounding set, user, capabilities; umask;
/// no_new_privs; fds; signal state; `last_word` (the init tells `start` through the exec
/// fifo); seccomp last otherwise (the filter may deny the calls before it); execve, through
/// `helper` when there is one (see [`super::dmz`]).
/// Returns only on failure.
pub fn finish(
    p: &Process,
    preserve_fds: u32,
    seccomp: Option<&crate::seccomp::Filter>,
    program: (&CString, &[CString], &[CString]),
    helper: Option<&OwnedFd>,
    last_word: impl FnOnce() -> Result<(), String>,
) -> String {
    let install = || match seccomp {
        Some(f) => f.install().map_err(|e| format!("cannot install the seccomp filter: {e}")),
        None => Ok(()),
    };
    let nnp = p.no_new_privileges().unwrap_or(false);
    let steps = || -> Result<(), String> {
        crate::rlimits::apply(p.rlimits().as_deref().unwrap_or_default())
            .map_err(|e| format!("process.rlimits: {e}"))?;
        if !nnp {
            install()?;
        }
        drop_privileges(p)?;
        sfs::umask(p.user().umask().unwrap_or(0o022));
        if nnp {
            sys::process::set_no_new_privs().map_err(|e| format!("cannot set no_new_privs: {e}"))?;
        }
        prepare_fds(preserve_fds)?;
        sys::signal::reset_dispositions();
        sys::signal::set_mask(&sys::signal::SigSet::empty())
            .map_err(|e| format!("cannot reset the signal mask: {e}"))?;
        last_word()?;
        if nnp {
            install()?;
        }
        Ok(())
    };
    if let Err(e) = steps() {
        return e;
    }
    let (exe, argv, envp) = program;
    let err = match helper {
        Some(h) => super::dmz::exec_via(h, exe, argv, envp),
        None => sys::process::execve(exe, argv, envp),
    };
    format!("exec {exe:?}: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lookup_takes_the_last_value() {
        let env = vec!["PATH=/a".to_string(), "PATHX=1".to_string(), "PATH=/b".to_string()];
        assert_eq!(lookup_env(&env, "PATH"), Some("/b"));
        assert_eq!(lookup_env(&env, "HOME"), None);
    }
}
