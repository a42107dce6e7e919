//! `linux.cgroupsPath` to a directory in the unified hierarchy, the way runc maps it:
//!
//! - absolute (`/a/b`): from the root of the hierarchy;
//! - relative (`a/b`): under the *parent* of the runtime's own cgroup. runc does this because
//!   the runtime's own cgroup usually holds processes (a login session, a service), and cgroup
//!   v2's "no internal processes" rule would then forbid enabling controllers for a child of it;
//! - with `--systemd-cgroup`, `slice:prefix:name` becomes `/<expanded slice>/<prefix>-<name>.scope`
//!   (`a-b.slice` expands to `a.slice/a-b.slice`; an empty slice is `system.slice`; a name ending
//!   in `.slice` is used as is). systemd is NOT contacted: this is a naming convention on
//!   cgroupfs, so systemd neither knows nor manages these cgroups;
//! - absent: runc uses the container id relative to its parent cgroup; scutum does the same
//!   under a parent it owns, `scutum/<id>` (removed when its last container is deleted), and with
//!   `--systemd-cgroup` `system.slice:scutum:<id>`.
//!
//! `..` is refused outright rather than cleaned: no legitimate config needs it, and a path that
//! climbs out of the intended subtree could land on a cgroup that holds the host's processes.

use super::CgroupError;
use std::path::{Component, Path, PathBuf};

const FIELD: &str = "linux.cgroupsPath";

/// Where a container's cgroup goes, relative to the hierarchy's mount point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub rel: PathBuf,
    /// The leaf's parent is scutum's own (the default `scutum/` parent): removed when empty even
    /// if another container created it.
    pub owned_parent: bool,
}

/// Maps `cgroups_path` (the config's, `None` when absent) for container `id`. `own` is the
/// runtime's own cgroup relative to the hierarchy's root.
pub fn locate(
    cgroups_path: Option<&str>,
    id: &str,
    systemd: bool,
    own: &Path,
) -> Result<Location, CgroupError> {
    if let Some(p) = cgroups_path.filter(|p| p.split(['/', ':']).any(|c| c == "..")) {
        return Err(CgroupError::config(FIELD, format!("{p} must not contain '..'")));
    }
    let parent_of_own = own.parent().unwrap_or(Path::new(""));
    let (rel, owned_parent) = match (cgroups_path.filter(|p| !p.is_empty()), systemd) {
        (None, false) => (parent_of_own.join("scutum").join(id), true),
        (None, true) => (systemd_path("system.slice", "scutum", id)?, false),
        (Some(p), true) => {
            let parts: Vec<&str> = p.split(':').collect();
            let [slice, prefix, name] = parts[..] else {
                return Err(CgroupError::config(
                    FIELD,
                    format!("{p:?} is not slice:prefix:name, which --systemd-cgroup expects"),
                ));
            };
            (systemd_path(slice, prefix, name)?, false)
        }
        (Some(p), false) if p.starts_with('/') => (PathBuf::from(p.trim_start_matches('/')), false),
        (Some(p), false) => (parent_of_own.join(p), false),
    };
    let rel = clean(&rel)?;
    if rel.as_os_str().is_empty() {
        return Err(CgroupError::config(
            FIELD,
            "names the root of the cgroup hierarchy, which is the host's",
        ));
    }
    Ok(Location { rel, owned_parent })
}

/// Drops `.` and empty components; refuses `..`.
fn clean(p: &Path) -> Result<PathBuf, CgroupError> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(CgroupError::config(FIELD, format!("{} must not contain '..'", p.display())))
            }
        }
    }
    Ok(out)
}

/// `slice:prefix:name` as runc's systemd driver lays it out on cgroupfs.
fn systemd_path(slice: &str, prefix: &str, name: &str) -> Result<PathBuf, CgroupError> {
    let bad = |what: &str, v: &str| CgroupError::config(FIELD, format!("systemd {what} {v:?} is not valid"));
    for (what, v) in [("slice", slice), ("prefix", prefix), ("name", name)] {
        if v.contains('/') || v == "." || v == ".." {
            return Err(bad(what, v));
        }
    }
    if name.is_empty() {
        return Err(bad("name", name));
    }
    let slice = if slice.is_empty() { "system.slice" } else { slice };
    let mut path = expand_slice(slice).ok_or_else(|| bad("slice", slice))?;
    let unit = match (name.ends_with(".slice"), prefix.is_empty()) {
        (true, _) => name.to_string(),
        (false, true) => format!("{name}.scope"),
        (false, false) => format!("{prefix}-{name}.scope"),
    };
    path.push(unit);
    Ok(path)
}

/// `a-b-c.slice` -> `a.slice/a-b.slice/a-b-c.slice`; `-.slice` is the root.
fn expand_slice(slice: &str) -> Option<PathBuf> {
    let base = slice.strip_suffix(".slice").filter(|b| !b.is_empty())?;
    let mut path = PathBuf::new();
    if base == "-" {
        return Some(path);
    }
    let mut prefix = String::new();
    for part in base.split('-') {
        if part.is_empty() {
            return None;
        }
        path.push(format!("{prefix}{part}.slice"));
        prefix.push_str(part);
        prefix.push('-');
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(p: Option<&str>, systemd: bool, own: &str) -> String {
        locate(p, "c1", systemd, Path::new(own)).unwrap().rel.display().to_string()
    }

    #[test]
    fn absolute_paths_start_at_the_hierarchy_root() {
        assert_eq!(rel(Some("/default/c1"), false, "user.slice/s.scope"), "default/c1");
        assert_eq!(rel(Some("//a/./b/"), false, ""), "a/b");
    }

    #[test]
    fn relative_paths_go_under_the_parent_of_our_own_cgroup() {
        assert_eq!(rel(Some("x/y"), false, "user.slice/session-1.scope"), "user.slice/x/y");
        assert_eq!(rel(Some("x"), false, ""), "x");
    }

    #[test]
    fn the_default_is_a_scutum_owned_parent_next_to_our_cgroup() {
        let l = locate(None, "c1", false, Path::new("a/b")).unwrap();
        assert_eq!(l, Location { rel: PathBuf::from("a/scutum/c1"), owned_parent: true });
        assert_eq!(rel(Some(""), false, ""), "scutum/c1");
        assert_eq!(rel(None, true, ""), "system.slice/scutum-c1.scope");
    }

    #[test]
    fn systemd_slice_prefix_name_maps_to_a_scope_under_the_expanded_slice() {
        assert_eq!(rel(Some("system.slice:docker:abc"), true, ""), "system.slice/docker-abc.scope");
        assert_eq!(
            rel(Some("kubepods-besteffort-pod1.slice:cri-containerd:abc"), true, ""),
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope"
        );
        assert_eq!(rel(Some(":p:n"), true, ""), "system.slice/p-n.scope");
        assert_eq!(rel(Some("-.slice::n"), true, ""), "n.scope");
        assert_eq!(rel(Some("a.slice:p:b.slice"), true, ""), "a.slice/b.slice");
    }

    #[test]
    fn refuses_escapes_the_root_and_malformed_systemd_paths() {
        let err =
            |p: &str, systemd: bool| locate(Some(p), "c1", systemd, Path::new("")).unwrap_err().to_string();
        assert!(err("/a/../../etc", false).contains("'..'"), "{}", err("/a/../../etc", false));
        assert!(err("../x", false).contains("linux.cgroupsPath"));
        assert!(err("/", false).contains("root of the cgroup hierarchy"));
        assert!(err("/a/b", true).contains("slice:prefix:name"));
        assert!(err("a--b.slice:p:n", true).contains("slice"));
        assert!(err("noslice:p:n", true).contains("slice"));
        assert!(err("a.slice:p:../n", true).contains("'..'"));
        assert!(err("a.slice:p:n/x", true).contains("name"));
        assert!(err("a.slice:p:", true).contains("name"));
    }
}
