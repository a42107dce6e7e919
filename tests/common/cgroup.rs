//! Helpers for the cgroup tests. They only ever read cgroup files (what a monitoring tool
//! would do); every change goes through scutum. Tests may create and remove directories of
//! their own under the v2 hierarchy to set up a parent, nothing else.

use super::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One line to stderr, past libtest's capture, saying what a test did or skipped.
pub fn note(test: &str, msg: &str) {
    let _ = std::io::stderr().write_all(format!("{test}: {msg}\n").as_bytes());
}

/// True inside the pure cgroup v2 VM of integration/vm (its kernel command line has
/// cgroup_no_v1=all). Outside, prints a skip note, or panics when SCUTUM_REQUIRE_VM=1.
pub fn in_vm(test: &str) -> bool {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    if cmdline.split_whitespace().any(|w| w == "cgroup_no_v1=all") {
        note(test, "in the VM: running");
        return true;
    }
    if std::env::var_os("SCUTUM_REQUIRE_VM").is_some_and(|v| v == "1") {
        panic!("{test}: not in the VM (no cgroup_no_v1=all in /proc/cmdline), but SCUTUM_REQUIRE_VM=1");
    }
    note(test, "not in the VM (no cgroup_no_v1=all in /proc/cmdline): skipped");
    false
}

/// Where the cgroup v2 hierarchy is mounted, from /proc/self/mountinfo.
pub fn v2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut mounts: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            (right.split(' ').next() == Some("cgroup2")).then(|| PathBuf::from(point))
        })
        .collect();
    mounts.sort_by_key(|m| m != Path::new("/sys/fs/cgroup"));
    mounts.into_iter().next()
}

/// The controllers the hierarchy's root offers.
pub fn controllers(mount: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(mount.join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// The v2 cgroup directory of a process, from /proc/<pid>/cgroup.
pub fn cgroup_of_pid(pid: i64) -> PathBuf {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let rel = text.lines().find_map(|l| l.strip_prefix("0::")).expect("a v2 line");
    v2_mount().unwrap().join(rel.trim_start_matches('/'))
}

/// The cgroup directory of a running container, found through its init.
pub fn cgroup_of(rt: &Runtime, id: &str) -> PathBuf {
    cgroup_of_pid(rt.state(id)["pid"].as_i64().unwrap())
}

pub fn read(path: impl AsRef<Path>) -> String {
    let p = path.as_ref();
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// `events --stats`: the stats event's `data`.
pub fn stats(rt: &Runtime, id: &str) -> Value {
    let r = rt.cmd(&["events", "--stats", id]).ok();
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["type"], "stats");
    assert_eq!(v["id"], id);
    v["data"].clone()
}

/// `ps --format json`: the container's pids.
pub fn ps(rt: &Runtime, id: &str) -> Vec<i64> {
    let r = rt.cmd(&["ps", "--format", "json", id]).ok();
    serde_json::from_str(r.stdout.trim()).unwrap()
}

/// Polls `f` until it returns `Some` (at most `secs`; the VM is slow, margins are wide).
#[track_caller]
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A bundle running `script` with a host directory bound read-write at /work, where the
/// container and the test exchange files.
pub struct WorkBundle {
    pub bundle: Bundle,
    pub work: TempDir,
}

impl WorkBundle {
    pub fn new(script: &str) -> WorkBundle {
        let bundle = Bundle::sh(script);
        let work = TempDir::new("work");
        bundle.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
                "destination": "/work", "type": "bind", "source": work.path(), "options": ["rbind", "rw"]
            }));
        });
        WorkBundle { bundle, work }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// Waits for the container to write `name` and returns its trimmed content.
    #[track_caller]
    pub fn wait_file(&self, name: &str, secs: u64) -> String {
        let p = self.file(name);
        wait_for(&format!("/work/{name}"), secs, || {
            std::fs::read_to_string(&p).ok().filter(|s| s.ends_with('\n')).map(|s| s.trim().to_string())
        })
    }

    /// Sets `linux.resources.<key>`.
    pub fn resources(&self, key: &str, v: Value) {
        self.bundle.edit(|c| c["linux"]["resources"][key] = v);
    }

    pub fn cgroups_path(&self, p: &str) {
        self.bundle.edit(|c| c["linux"]["cgroupsPath"] = Value::from(p));
    }
}

/// create + start.
#[track_caller]
pub fn start(rt: &Runtime, id: &str, b: &Bundle) {
    rt.create(id, b, &[]).ok();
    rt.cmd(&["start", id]).ok();
}

/// Adds capabilities to every set of the config's process.
pub fn add_caps(b: &Bundle, caps: &[&str]) {
    b.edit(|c| {
        for set in ["bounding", "effective", "permitted"] {
            let list = c["process"]["capabilities"][set].as_array_mut().unwrap();
            for cap in caps {
                list.push(Value::from(*cap));
            }
        }
    });
}

/// The device filter as a container sees it: with CAP_MKNOD and no user namespace, creating
/// a node for a device no rule allows (`denied` with the minor number plus one) fails, as does
/// opening the node for `denied` that the config lists in `linux.devices` without an allow
/// rule; the default devices work. Returns the container's report, one `name=result` a line.
pub fn device_filter_report(rt: &Runtime, id: &str, denied: (&str, u32, u32)) -> String {
    let (typ, major, minor) = denied;
    // Not the listed node's number: its mknod is allowed so that the init can create it.
    let other = minor + 1;
    let script = format!(
        "try() {{ if out=$(\"$@\" 2>&1); then echo ok; else echo \"denied: $out\"; fi; }}\n\
         echo mknod_denied=$(try mknod /dev/made {typ} {major} {other})\n\
         echo open_denied=$(try head -c 1 /dev/listed)\n\
         echo mknod_null=$(try mknod /dev/null2 c 1 3)\n\
         echo open_null2=$(try head -c 1 /dev/null2)\n\
         for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo dev_$d=present; done\n\
         echo read_zero=$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' ')\n\
         echo read_urandom=$(head -c 4 /dev/urandom | wc -c)\n\
         echo write_null=$(try sh -c 'echo x > /dev/null')\n"
    );
    let b = Bundle::sh(&script);
    add_caps(&b, &["CAP_MKNOD"]);
    b.edit(|c| {
        c["linux"]["devices"] = serde_json::json!([
            {"path": "/dev/listed", "type": typ, "major": major, "minor": minor, "fileMode": 432}
        ]);
    });
    let r = rt.run(id, &b);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    r.stdout
}

/// Checks a [`device_filter_report`]: the denials are EPERM from the filter (mknod of an allowed
/// device works, so CAP_MKNOD is there; opening is not refused for another reason).
#[track_caller]
pub fn assert_device_filter(report: &str) {
    for key in ["mknod_denied=denied: ", "open_denied=denied: "] {
        let line = report.lines().find(|l| l.starts_with(key));
        assert!(
            line.is_some_and(|l| l.contains("Operation not permitted")),
            "want {key}...Operation not permitted in the container's report:\n{report}"
        );
    }
    for line in [
        "mknod_null=ok",
        "open_null2=ok",
        "dev_null=present",
        "dev_zero=present",
        "dev_urandom=present",
        "read_zero=00000000",
        "read_urandom=4",
        "write_null=ok",
    ] {
        assert!(report.lines().any(|l| l == line), "missing {line:?} in the container's report:\n{report}");
    }
}
