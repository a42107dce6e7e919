//! `features`: what this build of scutum really supports, in the runtime-spec features format.
//! Only what works is claimed; each entry grows as the feature lands.

use crate::error::Result;
use serde_json::json;

pub fn run() -> Result<i32> {
    let v = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": crate::rootfs::options::known_options(),
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"],
            "capabilities": crate::caps::NAMES.to_vec(),
            // v2 only. systemd: false because --systemd-cgroup maps names on cgroupfs without
            // talking to systemd (see docs/cgroups.md).
            "cgroup": {"v1": false, "v2": true, "systemd": false, "systemdUser": false, "rdma": true},
            "seccomp": crate::seccomp::features(),
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": true}},
        },
        "annotations": {
            "io.github.scutum.version": env!("CARGO_PKG_VERSION"),
        },
    });
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    Ok(0)
}
