//! The container's cgroup on disk: creation with the needed controllers enabled above it,
//! writes, the device filter, signalling every process in it, and removal.

use super::devices::{self, Rule};
use super::freezer;
use super::hierarchy::{read_controllers, Hierarchy};
use super::path::Location;
use super::resources::{Mode, Plan, Write};
use super::{CgroupError, Controller};
use crate::sys::{self, fs as sfs};
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long removal waits for the killed processes of a cgroup to be gone.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A container's cgroup, created by [`Cgroup::create`].
#[derive(Debug)]
pub struct Cgroup {
    /// The leaf directory, e.g. /sys/fs/cgroup/scutum/c1.
    pub path: PathBuf,
    /// An fd on it, for clone3(CLONE_INTO_CGROUP) and the device filter.
    pub dir: OwnedFd,
    /// How many of its ancestors are scutum's, to remove with it when they are empty.
    pub owned_parents: u32,
}

fn is_not_found(e: &CgroupError) -> bool {
    matches!(e, CgroupError::Io { source, .. } | CgroupError::Write { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

impl Cgroup {
    /// Creates `loc` under `h` with `needs` enabled on the way down. Parents it had to create
    /// count as scutum's; an existing leaf is accepted only while it holds no process. A
    /// concurrent delete can remove a shared parent between two steps: that is retried.
    pub fn create(
        h: &Hierarchy,
        loc: &Location,
        needs: &BTreeMap<Controller, &str>,
    ) -> Result<Cgroup, CgroupError> {
        let mut tries = 0;
        loop {
            let mut created = Vec::new();
            let result = Self::create_once(h, loc, needs, &mut created);
            if result.is_err() {
                for d in created.iter().rev() {
                    let _ = std::fs::remove_dir(d);
                }
            }
            match result {
                Err(e) if is_not_found(&e) && tries < 3 => tries += 1,
                other => return other,
            }
        }
    }

    fn create_once(
        h: &Hierarchy,
        loc: &Location,
        needs: &BTreeMap<Controller, &str>,
        created: &mut Vec<PathBuf>,
    ) -> Result<Cgroup, CgroupError> {
        let leaf = h.mount.join(&loc.rel);
        let mut level = h.mount.clone();
        let mut parts = loc.rel.components().peekable();
        while let Some(part) = parts.next() {
            enable(&level, needs)?;
            level.push(part);
            if parts.peek().is_none() {
                break;
            }
            if mkdir(&level)? {
                created.push(level.clone());
            }
        }
        let owned_parents = (created.len() as u32).max(loc.owned_parent as u32);
        if mkdir(&leaf)? {
            created.push(leaf.clone());
        } else if populated(&leaf)? {
            return Err(CgroupError::Busy { path: leaf });
        }
        let dir = sfs::openat(None, &leaf, libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .map_err(|e| CgroupError::io("open", &leaf, e))?;
        Ok(Cgroup { path: leaf, dir, owned_parents })
    }

    /// Writes the plan's values, in order, through the directory fd.
    pub fn apply(&self, writes: &[Write]) -> Result<(), CgroupError> {
        for w in writes {
            match (write_at(self, &w.file, &w.value), &w.mode) {
                (Ok(()), _) | (Err(_), Mode::BestEffort) => {}
                (Err(e), Mode::IfExists) if e.kind() == io::ErrorKind::NotFound => {}
                (Err(e), Mode::Else(file, value)) if e.kind() == io::ErrorKind::NotFound => {
                    write_at(self, file, value).map_err(|source| CgroupError::Write {
                        field: w.field.clone(),
                        file: self.path.join(file),
                        value: value.clone(),
                        source,
                    })?
                }
                (Err(source), _) => {
                    return Err(CgroupError::Write {
                        field: w.field.clone(),
                        file: self.path.join(&w.file),
                        value: w.value.clone(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Loads the device program for `rules` and attaches it to this cgroup.
    pub fn attach_devices(&self, rules: &[Rule]) -> Result<(), CgroupError> {
        let insns = devices::program(rules);
        let prog = sys::bpf::load_device_program(&insns, "scutum_devices")
            .map_err(|source| CgroupError::Bpf { what: "load", path: self.path.clone(), source })?;
        sys::bpf::attach_device_program(self.dir.as_fd(), prog.as_fd()).map_err(|source| CgroupError::Bpf {
            what: "attach",
            path: self.path.clone(),
            source,
        })
    }
}

/// mkdir; false when it was already there.
fn mkdir(p: &Path) -> Result<bool, CgroupError> {
    match std::fs::create_dir(p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(CgroupError::io("create cgroup", p, e)),
    }
}

fn write_at(cg: &Cgroup, file: &str, value: &str) -> io::Result<()> {
    let fd = sfs::openat(Some(cg.dir.as_fd()), Path::new(file), libc::O_WRONLY | libc::O_TRUNC, 0)?;
    // One write(2): cgroup files take each write as one command.
    sfs::write_all(&fd, value.as_bytes())
}

fn write_file(path: &Path, value: &str) -> io::Result<()> {
    let fd = sfs::openat(None, path, libc::O_WRONLY | libc::O_TRUNC, 0)?;
    sfs::write_all(&fd, value.as_bytes())
}

/// Makes `needs` available to the children of `level` (its `cgroup.subtree_control`), writing
/// only the ones not already enabled, so a host cgroup that already offers them is not touched.
fn enable(level: &Path, needs: &BTreeMap<Controller, &str>) -> Result<(), CgroupError> {
    if needs.is_empty() {
        return Ok(());
    }
    let file = level.join("cgroup.subtree_control");
    let enabled = read_controllers(&file)?;
    for (c, field) in needs.iter().filter(|(c, _)| !enabled.contains(c)) {
        let value = format!("+{}", c.name());
        write_file(&file, &value).map_err(|source| CgroupError::Write {
            field: field.to_string(),
            file: file.clone(),
            value,
            source,
        })?;
    }
    Ok(())
}

/// Whether the cgroup or any descendant holds a process (`cgroup.events`).
pub fn populated(path: &Path) -> Result<bool, CgroupError> {
    let f = path.join("cgroup.events");
    match std::fs::read_to_string(&f) {
        Ok(text) => Ok(text.lines().any(|l| l == "populated 1")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CgroupError::io("read", &f, e)),
    }
}

/// Every process in the cgroup and its descendants (host pids), sorted.
pub fn pids(path: &Path) -> Result<Vec<i32>, CgroupError> {
    let mut out = Vec::new();
    collect_pids(path, &mut out)?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn collect_pids(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    let f = dir.join("cgroup.procs");
    let text = std::fs::read_to_string(&f).map_err(|e| CgroupError::io("read", &f, e))?;
    out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    for sub in subdirs(dir)? {
        collect_pids(&sub, out)?;
    }
    Ok(())
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CgroupError::io("read", dir, e))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect())
}

/// SIGKILLs every process in the cgroup: `cgroup.kill` (Linux 5.14), which also gets the
/// processes forked while it runs; on older kernels, [`signal_all`].
pub fn kill_all(path: &Path) -> Result<(), CgroupError> {
    match write_file(&path.join("cgroup.kill"), "1") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => signal_all(path, libc::SIGKILL),
        Err(e) => Err(CgroupError::io("write 1 to", path.join("cgroup.kill"), e)),
    }
}

/// Sends `sig` to every process in the cgroup. The cgroup is frozen meanwhile (as runc does), so
/// no process forks or exits between reading the pid list and signalling: a pid cannot be
/// recycled under us. Each signal goes through a pidfd.
pub fn signal_all(path: &Path, sig: i32) -> Result<(), CgroupError> {
    if sig == libc::SIGKILL && path.join("cgroup.kill").exists() {
        return kill_all(path);
    }
    let was_frozen = freezer::is_frozen(path);
    // A cgroup that cannot be frozen (a task stuck in the kernel) is still signalled.
    let froze = !was_frozen && freezer::set(path, true).is_ok();
    let result = pids(path).map(|list| {
        for pid in list {
            if let Ok(fd) = sys::process::pidfd_open(pid) {
                let _ = sys::process::pidfd_send_signal(fd.as_fd(), sig);
            }
        }
    });
    if froze {
        freezer::set(path, false)?;
    }
    result
}

/// Removes a container's cgroup: kills what is left in it, waits for it to empty, removes it
/// (sub-cgroups the container made first) and then up to `owned_parents` ancestors, each only
/// when empty. A missing cgroup is not an error.
pub fn remove(path: &Path, owned_parents: u32) -> Result<(), CgroupError> {
    if path.exists() {
        if populated(path)? {
            kill_all(path)?;
            if !freezer::wait_event(path, "populated 0", DRAIN_TIMEOUT)? {
                return Err(CgroupError::State {
                    path: path.to_path_buf(),
                    reason: format!("processes are still in it {} s after SIGKILL", DRAIN_TIMEOUT.as_secs()),
                });
            }
        }
        remove_tree(path)?;
    }
    let mut dir = path.parent();
    for _ in 0..owned_parents {
        let Some(d) = dir else { break };
        match std::fs::remove_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // Another container still uses it.
            Err(_) => break,
        }
        dir = d.parent();
    }
    Ok(())
}

fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    for sub in subdirs(dir)? {
        remove_tree(&sub)?;
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CgroupError::io("remove cgroup", dir, e)),
    }
}

/// Applies `plan` (an update) to an existing container cgroup: enables what it newly needs in
/// the ancestors below the hierarchy's root, then writes.
pub fn update(h: &Hierarchy, path: &Path, plan: &Plan) -> Result<(), CgroupError> {
    let rel = path.strip_prefix(&h.mount).map_err(|_| CgroupError::State {
        path: path.to_path_buf(),
        reason: format!("is not under the cgroup v2 hierarchy at {}", h.mount.display()),
    })?;
    let needs = plan.needs();
    let mut level = h.mount.clone();
    for part in rel.components() {
        enable(&level, &needs)?;
        level.push(part);
    }
    let dir = sfs::openat(None, path, libc::O_RDONLY | libc::O_DIRECTORY, 0)
        .map_err(|e| CgroupError::io("open", path, e))?;
    let cg = Cgroup { path: path.to_path_buf(), dir, owned_parents: 0 };
    if let Some(limit) = plan.check_memory_before {
        let f = path.join("memory.current");
        let current: i64 = std::fs::read_to_string(&f)
            .map_err(|e| CgroupError::io("read", &f, e))?
            .trim()
            .parse()
            .unwrap_or(0);
        if limit < current {
            return Err(CgroupError::config(
                "linux.resources.memory.limit",
                format!("{limit} is below the current usage {current} (checkBeforeUpdate)"),
            ));
        }
    }
    cg.apply(&plan.writes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::path;
    use crate::cgroups::resources;
    use serde_json::json;

    /// A fake cgroupfs in a temp dir: directories with the control files cgroupfs would have.
    struct Fake(PathBuf);

    impl Fake {
        fn new(name: &str) -> Fake {
            let p = std::env::temp_dir().join(format!("scutum-cgfake-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
            std::fs::write(p.join("cgroup.subtree_control"), "").unwrap();
            Fake(p)
        }
        fn read(&self, rel: &str) -> String {
            std::fs::read_to_string(self.0.join(rel)).unwrap()
        }
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn writes_go_to_the_leaf_and_controllers_are_enabled_above_it() {
        let fake = Fake::new("writes");
        let h = Hierarchy::at(&fake.0, "");
        // cgroupfs would create these in every new directory; a temp dir does not.
        std::fs::create_dir_all(fake.0.join("pod/c1")).unwrap();
        std::fs::write(fake.0.join("pod/cgroup.subtree_control"), "memory\n").unwrap();
        for f in ["memory.max", "memory.swap.max", "pids.max", "cgroup.events", "io.weight"] {
            std::fs::write(fake.0.join("pod/c1").join(f), "").unwrap();
        }
        std::fs::write(fake.0.join("pod/c1/cgroup.events"), "populated 0\nfrozen 0\n").unwrap();
        let loc = path::locate(Some("/pod/c1"), "c1", false, Path::new("")).unwrap();
        let r = serde_json::from_value(
            json!({"memory": {"limit": 1048576}, "pids": {"limit": 7}, "blockIO": {"weight": 1000}}),
        )
        .unwrap();
        let plan = resources::plan(Some(&r), None).unwrap();
        let cg = Cgroup::create(&h, &loc, &plan.needs()).unwrap();
        assert_eq!(cg.path, fake.0.join("pod/c1"));
        assert_eq!(cg.owned_parents, 0, "pod existed: not ours");
        cg.apply(&plan.writes).unwrap();
        assert_eq!(fake.read("pod/c1/pids.max"), "7");
        assert_eq!(fake.read("pod/c1/memory.max"), "1048576");
        assert_eq!(fake.read("pod/c1/io.weight"), "10000", "no io.bfq.weight: io.weight, scaled");
        // Written one by one, each only when missing (a real subtree_control accumulates).
        assert_eq!(fake.read("cgroup.subtree_control"), "+pids");
        assert_eq!(fake.read("pod/cgroup.subtree_control"), "+pids");
    }

    #[test]
    fn a_missing_file_names_the_field_and_the_file() {
        let fake = Fake::new("missing");
        std::fs::create_dir_all(fake.0.join("c1")).unwrap();
        std::fs::write(fake.0.join("c1/cgroup.events"), "populated 0\n").unwrap();
        let h = Hierarchy::at(&fake.0, "");
        let loc = path::locate(Some("/c1"), "c1", false, Path::new("")).unwrap();
        let r = serde_json::from_value(json!({"cpu": {"burst": 5}})).unwrap();
        let plan = resources::plan(Some(&r), None).unwrap();
        let cg = Cgroup::create(&h, &loc, &plan.needs()).unwrap();
        let e = cg.apply(&plan.writes).unwrap_err().to_string();
        assert!(e.starts_with("linux.resources.cpu.burst: cannot write \"5\" to "), "{e}");
        assert!(e.contains("c1/cpu.max.burst"), "{e}");
    }

    #[test]
    fn a_leaf_with_processes_is_refused_and_created_parents_are_counted_and_removed() {
        let fake = Fake::new("busy");
        let h = Hierarchy::at(&fake.0, "");
        std::fs::create_dir_all(fake.0.join("busy")).unwrap();
        std::fs::write(fake.0.join("busy/cgroup.events"), "populated 1\n").unwrap();
        let loc = path::locate(Some("/busy"), "x", false, Path::new("")).unwrap();
        assert!(matches!(Cgroup::create(&h, &loc, &BTreeMap::new()), Err(CgroupError::Busy { .. })));

        // The default location: a scutum-owned parent, created here.
        let loc = path::locate(None, "c2", false, Path::new("")).unwrap();
        let cg = Cgroup::create(&h, &loc, &BTreeMap::new()).unwrap();
        assert_eq!(cg.owned_parents, 1);
        assert!(fake.0.join("scutum/c2").is_dir());
        remove(&cg.path, cg.owned_parents).unwrap();
        assert!(!fake.0.join("scutum").exists(), "the owned parent goes with its last container");
    }

    #[test]
    fn remove_leaves_parents_that_are_not_ours_or_not_empty() {
        let fake = Fake::new("keep");
        std::fs::create_dir_all(fake.0.join("a/b/c")).unwrap();
        std::fs::create_dir_all(fake.0.join("a/other")).unwrap();
        remove(&fake.0.join("a/b/c"), 2).unwrap();
        assert!(!fake.0.join("a/b").exists(), "b was ours and empty");
        assert!(fake.0.join("a/other").exists() && fake.0.join("a").exists(), "a still has other");
        remove(&fake.0.join("gone"), 0).unwrap();
    }
}
