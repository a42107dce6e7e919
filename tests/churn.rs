//! Churn: many containers created, run and deleted by parallel workers, racing creates of one
//! id, kill racing delete. Afterwards the host's mounts, cgroups, state dirs, uid ranges and
//! open fds are exactly as before.

mod common;
use common::cgroup::v2_mount;
use common::*;
use std::sync::Arc;

/// The tests of this file compare host-wide counts, so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn cgroups() -> Vec<String> {
    let Some(m) = v2_mount() else { return Vec::new() };
    let mut v: Vec<String> = std::fs::read_dir(m.join("scutum"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn own_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn uid_slots(rt: &Runtime) -> usize {
    std::fs::read_dir(rt.root.path().join("@uidpool")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn two_hundred_containers_by_two_workers_leave_nothing_behind() {
    let _serial = serial();
    let rt = Arc::new(Runtime::new());
    let b = Arc::new(Bundle::sh("echo $$"));
    let (mounts, cgs, fds) = (host_snapshot(), cgroups(), own_fds());
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (rt, b) = (rt.clone(), b.clone());
            std::thread::spawn(move || {
                for i in 0..100 {
                    let id = unique(&format!("churn{w}"));
                    if i % 2 == 0 {
                        let r = rt.run(&id, &b);
                        assert_eq!((r.code, r.stdout.as_str()), (0, "1\n"), "{}", r.stderr);
                    } else {
                        rt.create(&id, &b, &[]).ok();
                        rt.cmd(&["start", &id]).ok();
                        rt.wait_status(&id, "stopped");
                        rt.cmd(&["delete", &id]).ok();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(rt.ids().is_empty(), "state dirs left: {:?}", rt.ids());
    assert_eq!(uid_slots(&rt), 0, "uid ranges left");
    assert_eq!(cgroups(), cgs, "cgroups left");
    assert_eq!(host_snapshot(), mounts, "mounts left");
    assert_eq!(own_fds(), fds, "fds leaked into the test process");
    for w in 0..2 {
        let needle = format!("churn{w}-{}-", std::process::id());
        assert!(processes_with(&needle).is_empty(), "processes left");
    }
}

#[test]
fn racing_creates_of_one_id_leave_exactly_one_container() {
    let _serial = serial();
    let rt = Arc::new(Runtime::new());
    let b = Arc::new(Bundle::sh("sleep 100"));
    let id = unique("samename");
    let results: Vec<Run> = (0..8)
        .map(|_| {
            let (rt, b, id) = (rt.clone(), b.clone(), id.clone());
            std::thread::spawn(move || rt.create(&id, &b, &[]))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.code == 0).count(), 1);
    assert!(results.iter().filter(|r| r.code != 0).all(|r| r.stderr.contains("already exists")));
    assert_eq!(uid_slots(&rt), 1, "losers must not keep a uid range");
    rt.cmd(&["delete", "--force", &id]).ok();
    assert_eq!(uid_slots(&rt), 0);
}

#[test]
fn kill_racing_delete_leaves_nothing_behind() {
    let _serial = serial();
    let rt = Arc::new(Runtime::new());
    let b = Bundle::sh("sleep 100");
    let (mounts, cgs) = (host_snapshot(), cgroups());
    for _ in 0..20 {
        let id = unique("killdel");
        rt.create(&id, &b, &[]).ok();
        rt.cmd(&["start", &id]).ok();
        let killer = {
            let (rt, id) = (rt.clone(), id.clone());
            std::thread::spawn(move || rt.cmd(&["kill", &id, "KILL"]))
        };
        let d = rt.cmd(&["delete", "--force", &id]);
        let k = killer.join().unwrap();
        // Either may lose the race, with a clear message; the container must be gone.
        assert_eq!(d.code, 0, "delete --force failed: {}", d.stderr);
        assert!(
            k.code == 0
                || ["not running", "does not exist", "no such process"].iter().any(|m| k.stderr.contains(m)),
            "{}",
            k.stderr
        );
        assert!(!rt.root.path().join(&id).exists());
    }
    assert_eq!(cgroups(), cgs);
    assert_eq!(host_snapshot(), mounts);
    assert!(processes_with(&format!("killdel-{}-", std::process::id())).is_empty());
}
