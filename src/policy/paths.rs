//! Which host paths a bind mount may expose (rule SCU-MNT-001). Judged twice: on the config's
//! path string during evaluation, and again on the path the source really resolved to when the
//! runtime opens it, so a symlink planted in the bundle cannot smuggle in /etc or a socket.

use super::data;
use super::Policy;
use crate::rootfs::resolve::normalize;
use std::path::{Path, PathBuf};

fn abs(p: &str) -> PathBuf {
    PathBuf::from(p)
}

/// Why binding host path `src` is refused, or `None` when it is allowed.
pub fn bind_source_refusal(src: &Path, readonly: bool, policy: &Policy, rootfs: &Path) -> Option<String> {
    let src = Path::new("/").join(normalize(src));
    if policy.allow_bind_sources.iter().any(|a| src.starts_with(a)) {
        return None;
    }
    let t = data::host_paths();
    if let Some(name) = src.file_name().and_then(|n| n.to_str()) {
        if t.sockets.iter().any(|s| s == name) {
            return Some(format!("{} is a container runtime or orchestrator socket", src.display()));
        }
    }
    let rootfs = Path::new("/").join(normalize(rootfs));
    if rootfs.starts_with(&src) {
        return Some(format!("{} contains the container's own rootfs", src.display()));
    }
    if t.exact.iter().any(|e| src == abs(e)) {
        return Some(format!("{} is a whole host directory tree", src.display()));
    }
    if t.device_nodes_allowlist.iter().any(|d| src == abs(d)) {
        return None;
    }
    if let Some(tree) = t.tree.iter().find(|d| src.starts_with(d)) {
        let rel = if src == abs(tree) { "is" } else { "is under" };
        return Some(format!("{} {rel} the host's {tree}", src.display()));
    }
    if src.starts_with(&t.etc.tree) {
        let allowed = readonly && t.etc.read_only_allowlist.iter().any(|a| src == abs(a));
        if !allowed {
            return Some(format!(
                "{} is host configuration (only read-only binds of {} are allowed)",
                src.display(),
                t.etc.read_only_allowlist.join(", ")
            ));
        }
        return None;
    }
    if !readonly {
        if let Some(w) = t.writable_refused.iter().find(|w| src.starts_with(w)) {
            return Some(format!("{} is a writable bind of the host's {w}", src.display()));
        }
    }
    // The most specific runtime or orchestrator store that contains the path.
    let store = t.stores.iter().filter(|s| src.starts_with(&s.path)).max_by_key(|s| s.path.len());
    if let Some(s) = store {
        let deep_enough = src
            .strip_prefix(&s.allow_under)
            .is_ok_and(|rest| rest.components().count() >= s.per_container_depth);
        if !deep_enough {
            return Some(format!(
                "{} spans {}: only per-container paths below {} (at least {} levels down) are allowed",
                src.display(),
                s.path,
                s.allow_under,
                s.per_container_depth
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, ro: bool) -> Option<String> {
        let p = Policy::preset("hardened").unwrap();
        bind_source_refusal(Path::new(src), ro, &p, Path::new("/var/lib/scutum-test/bundle/rootfs"))
    }

    #[test]
    fn refuses_what_exposes_the_host() {
        for (src, ro) in [
            ("/", true),
            ("/proc", true),
            ("/proc/sys/kernel", true),
            ("/sys", true),
            ("/dev", true),
            ("/dev/sda", false),
            ("/boot", true),
            ("/lib/modules", true),
            ("/root/.ssh", true),
            ("/home/alice", true),
            ("/etc", true),
            ("/etc/shadow", true),
            ("/etc/localtime", false),
            ("/usr", false),
            ("/usr/local/bin", false),
            ("/var/lib/docker", true),
            ("/var/lib/containerd", true),
            ("/var/lib/kubelet", true),
            ("/var/lib/kubelet/pods", true),
            ("/var/lib/kubelet/pods/1234", true),
            ("/var/lib/kubelet/pki", true),
            ("/run/containerd", true),
            ("/run/containerd/io.containerd.grpc.v1.cri", true),
            ("/var/run", true),
            ("/run", true),
            ("/run/docker.sock", false),
            ("/srv/anything/containerd.sock", false),
            ("/var/lib/scutum-test/bundle", true),
            ("/var/lib/scutum-test", true),
            ("/etc/../proc", true),
        ] {
            assert!(check(src, ro).is_some(), "{src} (ro={ro}) was allowed");
        }
    }

    #[test]
    fn allows_per_container_paths_of_real_clients() {
        for (src, ro) in [
            ("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/hosts", false),
            ("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/resolv.conf", false),
            ("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/hostname", false),
            ("/run/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm", false),
            ("/var/lib/kubelet/pods/1234/volumes/kubernetes.io~empty-dir/cache", false),
            ("/var/lib/kubelet/pods/1234/volumes/kubernetes.io~projected/kube-api-access-x", true),
            ("/var/lib/kubelet/pods/1234/etc-hosts", false),
            ("/var/lib/kubelet/pods/1234/containers/app/0a1b", false),
            ("/var/lib/docker/containers/abc/hosts", false),
            ("/var/lib/docker/volumes/data/_data", false),
            ("/etc/localtime", true),
            ("/usr/share/zoneinfo", true),
            ("/srv/data", false),
            ("/dev/null", false),
            ("/tmp/some-volume", false),
        ] {
            assert_eq!(check(src, ro), None, "{src} (ro={ro}) was refused");
        }
    }

    #[test]
    fn host_allowlist_widens() {
        let mut p = Policy::preset("hardened").unwrap();
        p.allow_bind_sources = vec!["/var/lib/kubelet/plugins/csi".into()];
        assert!(bind_source_refusal(Path::new("/var/lib/kubelet/plugins/csi/x"), false, &p, Path::new("/r"))
            .is_none());
        assert!(
            bind_source_refusal(Path::new("/var/lib/kubelet/plugins"), false, &p, Path::new("/r")).is_some()
        );
    }
}
