//! uid_map/gid_map of a new user namespace, written by the parent (which holds the host
//! privileges the child lacks) through a verified procfs fd.

use crate::sys;
use oci_spec::runtime::LinuxIdMapping;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Opens the host's /proc and checks it really is procfs (CVE-2025-52881: procfs writes must
/// not be redirectable by whatever is mounted over /proc).
pub fn host_proc() -> io::Result<OwnedFd> {
    let fd = sys::fs::openat(None, Path::new("/proc"), libc::O_PATH | libc::O_DIRECTORY, 0)?;
    if !sys::fs::is_procfs(fd.as_fd())? {
        return Err(io::Error::other("/proc is not a procfs"));
    }
    Ok(fd)
}

/// The kernel's text form of a mapping table: "container host size" per line.
pub fn map_text(maps: &[LinuxIdMapping]) -> String {
    maps.iter().map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size())).collect()
}

/// Writes `<pid>/<file>` under the verified procfs `proc` in one write(2), as the kernel
/// requires for id maps.
pub fn write_proc(proc: BorrowedFd, pid: i32, file: &str, text: &str) -> io::Result<()> {
    let p = format!("{pid}/{file}");
    let fd = sys::fs::openat2(
        proc,
        Path::new(&p),
        libc::O_WRONLY,
        0,
        sys::fs::RESOLVE_BENEATH | sys::fs::RESOLVE_NO_XDEV | sys::fs::RESOLVE_NO_SYMLINKS,
    )?;
    if !sys::fs::is_procfs(fd.as_fd())? {
        return Err(io::Error::other(format!("{p} is not on procfs")));
    }
    sys::fs::write_all(&fd, text.as_bytes())
}

/// Writes uid_map then gid_map of `pid`'s user namespace.
pub fn write_maps(
    proc: BorrowedFd,
    pid: i32,
    uids: &[LinuxIdMapping],
    gids: &[LinuxIdMapping],
) -> io::Result<()> {
    write_proc(proc, pid, "uid_map", &map_text(uids))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write uid_map: {e}")))?;
    write_proc(proc, pid, "gid_map", &map_text(gids))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write gid_map: {e}")))
}

/// A user namespace with exactly these maps, for idmapping a mount through it: a child is
/// cloned into a new user namespace and parked, the maps are written, its namespace is opened,
/// and the child is let go. The returned fd keeps the namespace alive.
pub fn userns_with(
    proc: BorrowedFd,
    uids: &[LinuxIdMapping],
    gids: &[LinuxIdMapping],
) -> io::Result<OwnedFd> {
    let (ours, theirs) = sys::socket::seqpacket_pair()?;
    match sys::process::clone3(libc::CLONE_NEWUSER as u64, None)? {
        sys::process::Forked::Child => {
            drop(ours);
            // Parked until the parent closes its end; then gone without touching anything.
            let mut b = [0u8; 1];
            let _ = sys::fs::read(&theirs, &mut b);
            sys::process::exit_now(0)
        }
        sys::process::Forked::Parent { pid, pidfd } => {
            drop(theirs);
            let result = write_maps(proc, pid, uids, gids).and_then(|()| {
                sys::fs::openat(Some(proc), Path::new(&format!("{pid}/ns/user")), libc::O_RDONLY, 0)
            });
            drop(ours);
            if let Some(p) = pidfd {
                let _ = sys::process::wait_pidfd(p.as_fd(), false);
            }
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_maps_one_line_each() {
        let m: Vec<LinuxIdMapping> = serde_json::from_str(
            r#"[{"containerID":0,"hostID":100000,"size":65536},{"containerID":65536,"hostID":5,"size":1}]"#,
        )
        .unwrap();
        assert_eq!(map_text(&m), "0 100000 65536\n65536 5 1\n");
    }
}
