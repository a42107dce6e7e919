//! Per-container id ranges for the hardened user namespace: 65536 host ids each, from the
//! policy's pool. A range is claimed by creating `<root>/@uidpool/<slot>` with O_EXCL (atomic:
//! two creates can never get one slot) holding the owner's id, and released on delete. A slot
//! whose owner has no state directory any more (a create killed mid-way) is reclaimed.

use super::ContainerError;
use crate::policy::UidPool;
use crate::sys::fs as sfs;
use serde::{Deserialize, Serialize};
use std::os::fd::AsFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The directory name; '@' can never appear in a container id.
pub const POOL_DIR: &str = "@uidpool";
pub const RANGE: u64 = 65536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UidRange {
    /// First host id.
    pub start: u32,
    pub size: u32,
    pub slot: u32,
}

fn dir(root: &Path) -> PathBuf {
    root.join(POOL_DIR)
}

fn slots(pool: &UidPool) -> u64 {
    (pool.size / RANGE).max(1)
}

/// FNV-1a of the id: where probing starts, so allocation cost does not grow with the number of
/// live containers.
fn hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

pub fn allocate(root: &Path, id: &str, pool: &UidPool) -> Result<UidRange, ContainerError> {
    let d = dir(root);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&d)
        .map_err(|e| ContainerError::io("create", &d, e))?;
    let dfd = sfs::openat(None, &d, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| ContainerError::io("open", &d, e))?;
    let n = slots(pool);
    let first = hash(id) % n;
    for i in 0..n {
        let slot = (first + i) % n;
        let name = slot.to_string();
        let claim = || {
            sfs::openat(
                Some(dfd.as_fd()),
                Path::new(&name),
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
                0o600,
            )
        };
        let fd = match claim() {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                if !reclaim_stale(root, &d.join(&name)) {
                    continue;
                }
                match claim() {
                    Ok(fd) => fd,
                    Err(_) => continue,
                }
            }
            Err(e) => return Err(ContainerError::io("claim an id range in", &d, e)),
        };
        sfs::write_all(&fd, id.as_bytes()).map_err(|e| ContainerError::io("write", d.join(&name), e))?;
        let start = pool.start + slot * RANGE;
        return Ok(UidRange { start: start as u32, size: RANGE as u32, slot: slot as u32 });
    }
    Err(ContainerError::io(
        "allocate an id range",
        &d,
        std::io::Error::other(format!("all {n} ranges of the policy's uidPool are in use")),
    ))
}

/// Removes a slot whose owner no longer has a state directory. True if it was stale.
fn reclaim_stale(root: &Path, slot: &Path) -> bool {
    let Ok(owner) = std::fs::read_to_string(slot) else { return false };
    if owner.is_empty() || super::validate_id(&owner).is_err() || root.join(&owner).exists() {
        return false;
    }
    std::fs::remove_file(slot).is_ok()
}

/// Frees `range` if `id` still owns it.
pub fn release(root: &Path, id: &str, range: &UidRange) {
    let slot = dir(root).join(range.slot.to_string());
    if std::fs::read_to_string(&slot).is_ok_and(|owner| owner == id) {
        let _ = std::fs::remove_file(slot);
    }
}

/// Frees every range `id` owns (delete --force of a container whose state.json is gone, so its
/// range is not known).
pub fn release_all(root: &Path, id: &str) {
    let Ok(entries) = std::fs::read_dir(dir(root)) else { return };
    for e in entries.filter_map(|e| e.ok()) {
        if std::fs::read_to_string(e.path()).is_ok_and(|owner| owner == id) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("scutum-uidpool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn live_containers_get_disjoint_ranges_and_release_frees_them() {
        let root = tmp("disjoint");
        let pool = UidPool { start: 1 << 31, size: 4 * RANGE };
        let mut got = Vec::new();
        for i in 0..4 {
            let id = format!("c{i}");
            std::fs::create_dir(root.join(&id)).unwrap();
            got.push(allocate(&root, &id, &pool).unwrap());
        }
        let mut starts: Vec<u32> = got.iter().map(|r| r.start).collect();
        starts.sort();
        starts.dedup();
        assert_eq!(starts.len(), 4);
        assert!(starts
            .iter()
            .all(|s| (*s as u64) >= pool.start && (*s as u64) + RANGE <= pool.start + pool.size));
        std::fs::create_dir(root.join("c4")).unwrap();
        assert!(allocate(&root, "c4", &pool).is_err(), "the pool is full");
        release(&root, "c2", &got[2]);
        assert_eq!(allocate(&root, "c4", &pool).unwrap().start, got[2].start);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_slot_of_a_vanished_container_is_reclaimed() {
        let root = tmp("stale");
        let pool = UidPool { start: 1 << 31, size: RANGE };
        allocate(&root, "gone", &pool).unwrap();
        std::fs::create_dir(root.join("new")).unwrap();
        assert_eq!(allocate(&root, "new", &pool).unwrap().slot, 0);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
