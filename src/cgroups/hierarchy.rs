//! Where the cgroup v2 hierarchy is: its mount point, found in `/proc/self/mountinfo` (a pure
//! v2 host mounts it at /sys/fs/cgroup, a hybrid host at /sys/fs/cgroup/unified; nothing is
//! hardcoded), and the runtime's own cgroup in it, from `/proc/self/cgroup`. The v1
//! hierarchies of a hybrid host are never looked at.

use super::{CgroupError, Controller};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The unified hierarchy as this process sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where it is mounted, e.g. /sys/fs/cgroup. Every cgroup path is under here.
    pub mount: PathBuf,
    /// The runtime's own cgroup, relative to `mount` (empty for the root).
    pub own: PathBuf,
}

impl Hierarchy {
    /// A hierarchy rooted at `mount` (a seam: unit tests pass a temp dir).
    pub fn at(mount: impl Into<PathBuf>, own: impl Into<PathBuf>) -> Hierarchy {
        Hierarchy { mount: mount.into(), own: own.into() }
    }

    /// Reads `<proc>/self/mountinfo` and `<proc>/self/cgroup`. `None` when no cgroup2 file
    /// system is mounted (a pure cgroup v1 host).
    pub fn detect(proc: &Path) -> Result<Option<Hierarchy>, CgroupError> {
        let read = |name: &str| {
            let p = proc.join("self").join(name);
            std::fs::read_to_string(&p).map_err(|e| CgroupError::io("read", p, e))
        };
        let Some((mount, root)) = parse_mountinfo(&read("mountinfo")?) else { return Ok(None) };
        let own = format!("/{}", parse_own_cgroup(&read("cgroup")?).unwrap_or_default());
        // Our cgroup as seen from the mount's root (they differ when only a subtree is mounted,
        // as inside a container); outside that subtree, relative paths start at the mount.
        let own = Path::new(&own).strip_prefix(&root).map(Path::to_path_buf).unwrap_or_default();
        Ok(Some(Hierarchy { mount, own }))
    }

    /// The controllers the hierarchy's root offers (`cgroup.controllers`).
    pub fn controllers(&self) -> Result<BTreeSet<Controller>, CgroupError> {
        read_controllers(&self.mount.join("cgroup.controllers"))
    }
}

/// The controllers listed in a `cgroup.controllers` or `cgroup.subtree_control` file. Names
/// scutum does not manage are skipped.
pub fn read_controllers(file: &Path) -> Result<BTreeSet<Controller>, CgroupError> {
    let text = std::fs::read_to_string(file).map_err(|e| CgroupError::io("read", file, e))?;
    Ok(text.split_whitespace().filter_map(Controller::from_name).collect())
}

/// The first cgroup2 mount (preferring /sys/fs/cgroup): (mount point, root within the
/// hierarchy). Mount points are octal-escaped in mountinfo (`\040` for a space).
fn parse_mountinfo(text: &str) -> Option<(PathBuf, String)> {
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    for line in text.lines() {
        // id parent maj:min root mountpoint options [optional...] - fstype source superopts
        let Some((left, right)) = line.split_once(" - ") else { continue };
        if right.split(' ').next() != Some("cgroup2") {
            continue;
        }
        let f: Vec<&str> = left.split(' ').collect();
        if f.len() < 5 {
            continue;
        }
        found.push((PathBuf::from(unescape(f[4])), unescape(f[3])));
    }
    let preferred = found.iter().position(|(m, _)| m == Path::new("/sys/fs/cgroup"));
    preferred.map(|i| found.swap_remove(i)).or_else(|| found.into_iter().next())
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The v2 line of /proc/self/cgroup ("0::/path"), without the leading slash.
fn parse_own_cgroup(text: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix("0::")).map(|p| p.trim_start_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_the_v2_mount_of_a_hybrid_host_and_prefers_sys_fs_cgroup() {
        assert_eq!(parse_mountinfo(HYBRID), Some((PathBuf::from("/sys/fs/cgroup/unified"), "/".into())));
        let pure = "29 23 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n\
                    90 29 0:26 /x /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n";
        assert_eq!(parse_mountinfo(pure), Some((PathBuf::from("/sys/fs/cgroup"), "/".into())));
        let only_other = "90 29 0:26 /x /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n";
        assert_eq!(parse_mountinfo(only_other), Some((PathBuf::from("/mnt/my cg"), "/x".into())));
        let v1 = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        assert_eq!(parse_mountinfo(v1), None);
    }

    #[test]
    fn reads_the_v2_line_of_proc_self_cgroup() {
        let text = "4:memory:/process_api/x\n1:cpu:/\n0::/user.slice/session-1.scope\n";
        assert_eq!(parse_own_cgroup(text).as_deref(), Some("user.slice/session-1.scope"));
        assert_eq!(parse_own_cgroup("0::/\n").as_deref(), Some(""));
    }

    #[test]
    fn detects_from_a_fake_proc() {
        let dir = std::env::temp_dir().join(format!("scutum-hier-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("self")).unwrap();
        std::fs::write(dir.join("self/mountinfo"), HYBRID).unwrap();
        std::fs::write(dir.join("self/cgroup"), "0::/a/b\n").unwrap();
        let h = Hierarchy::detect(&dir).unwrap().unwrap();
        assert_eq!(h, Hierarchy::at("/sys/fs/cgroup/unified", "a/b"));
        std::fs::write(dir.join("self/mountinfo"), "").unwrap();
        assert_eq!(Hierarchy::detect(&dir).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
