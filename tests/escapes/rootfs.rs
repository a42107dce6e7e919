//! Attacks on the rootfs and its mounts (from issue "2/8 Rootfs"), kept in the escape suite. Each test records the host's
//! mount table and a checksum of a bait file outside the rootfs, attacks, and checks both are
//! unchanged. Most run under `--policy unconfined`: what stops them is the fd-based rootfs code,
//! not the policy.

use crate::common::*;
use serde_json::json;
use std::os::unix::fs::symlink;

/// A file outside any rootfs whose content must never change.
struct Bait {
    dir: TempDir,
}

impl Bait {
    fn new() -> Bait {
        let dir = TempDir::new("bait");
        std::fs::write(dir.path().join("file"), "original bait content\n").unwrap();
        Bait { dir }
    }
    fn digest(&self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| {
                (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default())
            })
            .collect();
        v.sort();
        v
    }
}

/// Runs `attack` and checks the host's mounts and the bait are as before.
fn host_unchanged(bait: &Bait, attack: impl FnOnce()) {
    let mounts = host_snapshot();
    let before = bait.digest();
    attack();
    assert_eq!(bait.digest(), before, "the bait outside the rootfs changed");
    assert_eq!(host_snapshot(), mounts, "the host's mount table changed");
}

#[test]
fn cve_2026_dev_symlink_in_the_image_is_refused() {
    // The image's /dev is a symlink to a host directory: a runtime that mounts or creates
    // devices "in /dev" would act on the host.
    let bait = Bait::new();
    host_unchanged(&bait, || {
        let b = Bundle::sh("true");
        std::fs::remove_dir(b.rootfs().join("dev")).unwrap();
        symlink(bait.dir.path(), b.rootfs().join("dev")).unwrap();
        let rt = Runtime::unconfined();
        rt.create(&unique("devlink"), &b, &[]).fails_with("/dev is not a plain directory");
        assert!(rt.ids().is_empty());
    });
    assert_eq!(bait.digest().len(), 1, "something was created in the bait dir");
}

#[test]
fn cve_2021_30465_mount_destination_symlinked_to_root_or_bait_stays_inside() {
    let bait = Bait::new();
    host_unchanged(&bait, || {
        let vol = TempDir::new("vol");
        std::fs::write(vol.path().join("marker"), "volume").unwrap();
        let b = Bundle::sh("cat /data/marker 2>/dev/null; cat /etc/marker 2>/dev/null; echo; ls /");
        // /data -> the bait file's absolute host path; /etc -> "/".
        symlink(bait.dir.path(), b.rootfs().join("data")).unwrap();
        std::fs::remove_dir_all(b.rootfs().join("etc")).unwrap();
        symlink("/", b.rootfs().join("etc")).unwrap();
        b.edit(|c| {
            let m = c["mounts"].as_array_mut().unwrap();
            m.push(json!({"destination": "/data", "type": "bind", "source": vol.path(), "options": ["rbind", "ro"]}));
            m.push(json!({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
        });
        let r = Runtime::unconfined().run(&unique("destlink"), &b);
        assert_eq!(r.code, 0, "{}", r.stderr);
        // The bind landed inside the rootfs, at the symlink's target taken relative to the root.
        assert!(r.stdout.starts_with("volume"), "{}", r.stdout);
        assert!(b.rootfs().join(bait.dir.path().strip_prefix("/").unwrap()).is_dir());
    });
}

#[test]
fn cve_2019_19921_proc_symlink_in_the_image_is_refused() {
    let bait = Bait::new();
    host_unchanged(&bait, || {
        let b = Bundle::sh("true");
        std::fs::remove_dir(b.rootfs().join("proc")).unwrap();
        symlink(bait.dir.path(), b.rootfs().join("proc")).unwrap();
        Runtime::unconfined()
            .create(&unique("proclink"), &b, &[])
            .fails_with("proc is only mounted onto a real directory");
    });
}

#[test]
fn proc_onto_a_file_is_refused() {
    let b = Bundle::sh("true");
    std::fs::write(b.rootfs().join("notadir"), "").unwrap();
    b.edit(|c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/notadir", "type": "proc", "source": "proc"}))
    });
    Runtime::unconfined().create(&unique("procfile"), &b, &[]).fails_with("real directory");
}

#[test]
fn proc_sub_path_mounts_are_refused_except_lxcfs_files() {
    let rt = Runtime::unconfined();
    let b = Bundle::sh("true");
    let src = TempDir::new("fake");
    std::fs::write(src.path().join("x"), "fake\n").unwrap();
    b.edit(|c| c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/proc/sys/kernel/core_pattern", "type": "bind", "source": src.path().join("x"), "options": ["bind"]})));
    rt.create(&unique("procsub"), &b, &[]).fails_with("not allowed");
    let b = Bundle::sh("cat /proc/uptime");
    b.edit(|c| c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/proc/uptime", "type": "bind", "source": src.path().join("x"), "options": ["bind", "ro"]})));
    let r = rt.run(&unique("lxcfs"), &b);
    assert_eq!((r.code, r.stdout.as_str()), (0, "fake\n"), "{}", r.stderr);
}

#[test]
fn cve_2025_31133_dev_null_symlink_in_the_image_changes_nothing() {
    // The image's /dev/null points at a procfs file: masking with it would bind that file,
    // writable, over the masked paths. scutum never uses the image's /dev.
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let b = Bundle::sh(
        "echo '|/tmp/pwn' > /proc/sys/kernel/core_pattern 2>/dev/null; echo x > /proc/keys 2>/dev/null; \
                        ls -l /dev/null; wc -c < /proc/keys",
    );
    symlink("/proc/sys/kernel/core_pattern", b.rootfs().join("dev/null")).unwrap();
    for rt in [Runtime::unconfined(), Runtime::new()] {
        let r = rt.run(&unique("devnull"), &b);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("crw-rw-rw-") && r.stdout.contains("1,   3"), "{}", r.stdout);
        assert!(r.stdout.trim_end().ends_with('0'), "/proc/keys is not masked: {}", r.stdout);
    }
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(), pattern);
}

#[test]
fn cve_2024_21626_cwd_and_args_through_proc_magic_links_are_refused() {
    for rt in [Runtime::unconfined(), Runtime::new()] {
        let b = Bundle::sh("true");
        b.edit(|c| c["process"]["cwd"] = json!("/proc/self/fd/3"));
        let r = rt.create(&unique("cwdfd"), &b, &[]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("magic link") || r.stderr.contains("SCU-PROC-002"), "{}", r.stderr);
        let b = Bundle::new();
        b.args(&["/proc/self/exe"]);
        let r = rt.create(&unique("selfexe"), &b, &[]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("magic link") || r.stderr.contains("SCU-PROC-002"), "{}", r.stderr);
        assert!(rt.ids().is_empty());
    }
}

#[test]
fn kernel_interfaces_inside_are_read_only_or_masked() {
    let b = Bundle::sh(
        "echo c > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable; \
         echo '|/tmp/x' > /proc/sys/kernel/core_pattern 2>/dev/null && echo core-writable; \
         cat /proc/keys | wc -c; echo done",
    );
    for rt in [Runtime::unconfined(), Runtime::new()] {
        let r = rt.run(&unique("kif"), &b);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "0\ndone\n");
    }
}

#[test]
fn bind_mount_flags_really_apply() {
    let vol = TempDir::new("vol");
    std::fs::write(vol.path().join("f"), "x").unwrap();
    let b = Bundle::sh("grep ' /vol ' /proc/self/mountinfo; touch /vol/new 2>&1 || true");
    b.edit(|c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/vol", "type": "bind", "source": vol.path(),
        "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}))
    });
    let r = Runtime::new().run(&unique("flags"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.lines().next().unwrap();
    let opts = line.split_whitespace().nth(5).unwrap();
    for f in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(opts.split(',').any(|o| o == f), "{f} missing from {opts}");
    }
    assert!(r.stdout.contains("Read-only file system"));
    assert!(!vol.path().join("new").exists());
}

#[test]
fn recursive_read_only_covers_submounts() {
    let vol = TempDir::new("rro");
    std::fs::create_dir(vol.path().join("sub")).unwrap();
    let b = Bundle::sh("touch /vol/sub/x 2>&1 || true");
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/vol", "type": "bind", "source": vol.path(), "options": ["rbind", "rro"]}),
        )
    });
    let rt = Runtime::unconfined();
    // The source needs a submount for rro to matter; it lives in a private mount namespace so
    // the host's mount table (which other tests compare) never sees it.
    let script = format!(
        "mount -t tmpfs tmpfs '{}/sub' && exec '{}' --root '{}' --policy unconfined run --bundle '{}' '{}'",
        vol.path().display(),
        scutum(),
        rt.root.path().display(),
        b.path().display(),
        unique("rro")
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Read-only file system"), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let f = Runtime::new().cmd(&["features"]).ok().stdout;
    assert!(f.contains("\"rro\""), "features must list rro");
}

#[test]
fn read_only_root_is_verified_read_only() {
    let b = Bundle::sh("awk '$5 == \"/\" { print $6 }' /proc/self/mountinfo");
    let r = Runtime::new().run(&unique("roroot"), &b);
    let opts = r.stdout.trim().to_string();
    assert!(opts.split(',').any(|o| o == "ro"), "{}", r.stdout);
}

#[test]
fn a_fresh_dev_ignores_device_nodes_planted_in_the_image() {
    // A block device node planted in the image's /dev must not be reachable.
    let b = Bundle::sh("ls /dev | tr '\\n' ' '");
    let st = std::fs::metadata("/dev/vda").ok().map(|_| ());
    if st.is_some() {
        let s = std::process::Command::new("mknod")
            .arg(b.rootfs().join("dev/planted"))
            .args(["b", "254", "0"])
            .status()
            .unwrap();
        assert!(s.success());
    }
    let r = Runtime::unconfined().run(&unique("freshdev"), &b);
    assert!(!r.stdout.contains("planted"), "{}", r.stdout);
    for d in [
        "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "stdin", "stdout",
        "stderr",
    ] {
        assert!(r.stdout.split_whitespace().any(|x| x == d), "/dev/{d} missing: {}", r.stdout);
    }
}

#[test]
fn cve_2021_30465_racing_symlink_swaps_never_mount_outside_the_rootfs() {
    // A helper swaps the mount destination for a symlink to a host directory in a loop while
    // containers are created. A createContainer hook records the container's mount table just
    // before pivot_root, when host paths are still visible: no mount may be outside the rootfs.
    let bait = Bait::new();
    let b = Bundle::sh("true");
    let vol = TempDir::new("racevol");
    std::fs::write(vol.path().join("marker"), "m").unwrap();
    let dump = TempDir::new("racedump");
    let dump_file = dump.path().join("mountinfo");
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/race/dest", "type": "bind", "source": vol.path(), "options": ["rbind"]}));
        c["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", format!("cat /proc/self/mountinfo > {}", dump_file.display())]}]});
    });
    std::fs::create_dir_all(b.rootfs().join("race/dest")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let race_dir = b.rootfs().join("race");
    let target = bait.dir.path().to_path_buf();
    let swapper = {
        let stop = stop.clone();
        let target = target.clone();
        std::thread::spawn(move || {
            let dest = race_dir.join("dest");
            let aside = race_dir.join("aside");
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::fs::rename(&dest, &aside);
                let _ = symlink(&target, &dest);
                let _ = std::fs::remove_file(&dest);
                let _ = std::fs::rename(&aside, &dest);
            }
        })
    };
    let rt = Runtime::unconfined();
    let host_mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| l.split(' ').nth(4).unwrap().to_string())
        .collect();
    let rootfs = b.rootfs();
    let mut landed = 0;
    host_unchanged(&bait, || {
        for _ in 0..30 {
            let _ = std::fs::remove_file(&dump_file);
            let id = unique("race");
            if rt.create(&id, &b, &[]).code != 0 {
                continue; // refusing is fine; landing outside is not
            }
            let info = std::fs::read_to_string(&dump_file).unwrap();
            for line in info.lines() {
                let point = line.split(' ').nth(4).unwrap();
                let inside = std::path::Path::new(point).starts_with(&rootfs);
                assert!(
                    inside || host_mounts.iter().any(|h| h == point),
                    "mounted outside the rootfs: {line}"
                );
                assert!(!std::path::Path::new(point).starts_with(&target), "mounted on the bait: {line}");
            }
            landed += 1;
            rt.cmd(&["delete", "--force", &id]).ok();
        }
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(landed > 0, "every create failed under the race: the test proved nothing");
}
