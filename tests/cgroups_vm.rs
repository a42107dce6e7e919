//! Real cgroup v2 enforcement, proven in the pure cgroup v2 VM of integration/vm (Debian's 6.1
//! kernel booted with cgroup_no_v1=all, every controller enabled at the root). Every limit is
//! set through scutum and observed from outside (stats, ps, the kernel's own counters) or from
//! inside the container; no test writes a cgroup file. Outside the VM each test prints a skip
//! note (a failure with SCUTUM_REQUIRE_VM=1). Run them with integration/vm/run-cgroup-tests.sh.

mod common;
use common::cgroup::*;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// The raw disk the VM offers for io.max tests: (path, major, minor).
fn io_disk() -> (String, u32, u32) {
    let path = std::env::var("SCUTUM_VM_IO_DISK").expect("SCUTUM_VM_IO_DISK");
    let mm = std::env::var("SCUTUM_VM_IO_DISK_MAJMIN").expect("SCUTUM_VM_IO_DISK_MAJMIN");
    let (a, b) = mm.split_once(':').unwrap();
    (path, a.parse().unwrap(), b.parse().unwrap())
}

/// `scutum events` running in the background, its lines arriving on a channel.
struct EventStream {
    child: std::process::Child,
    lines: Receiver<String>,
}

impl EventStream {
    fn start(rt: &Runtime, id: &str, interval: &str) -> EventStream {
        let mut child = rt
            .command()
            .args(["events", "--interval", interval, id])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        EventStream { child, lines }
    }

    /// The next event of type `typ`, skipping others.
    #[track_caller]
    fn next(&self, typ: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line =
                self.lines.recv_timeout(left).unwrap_or_else(|_| panic!("no {typ} event within {secs} s"));
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if v["type"] == typ {
                return v;
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn memory_limit_oom_kills_and_events_report_it() {
    if !in_vm("memory_limit_oom_kills_and_events_report_it") {
        return;
    }
    let rt = Runtime::unconfined();
    // dd's 100 MiB buffer cannot fit in 32 MiB; the shell around it stays small and survives.
    let b = WorkBundle::new(
        "while [ ! -e /work/go ]; do sleep 0.05; done; \
         dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null; echo $? > /work/dd; exec sleep 1000",
    );
    b.resources("memory", json!({"limit": 32 * MIB, "swap": 32 * MIB}));
    let id = unique("oom");
    start(&rt, &id, &b.bundle);
    let cg = cgroup_of(&rt, &id);
    assert_eq!(read(cg.join("memory.max")).trim(), (32 * MIB).to_string());
    assert_eq!(read(cg.join("memory.swap.max")).trim(), "0", "swap = memory+swap - memory");

    let events = EventStream::start(&rt, &id, "1s");
    let first = events.next("stats", 60);
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["data"]["memory"]["usage"]["limit"], 32 * MIB);
    std::fs::write(b.file("go"), "").unwrap();
    assert_eq!(b.wait_file("dd", 60), "137", "dd must be SIGKILLed by the OOM killer");
    assert_eq!(events.next("oom", 30), json!({"type": "oom", "id": id}));

    let s = stats(&rt, &id);
    assert!(s["memory"]["event_count"]["oom_kill"].as_u64().unwrap() >= 1, "{}", s["memory"]);
    assert_eq!(s["memory"]["usage"]["limit"], 32 * MIB);
    assert_eq!(rt.status(&id), "running", "only dd was killed");
    rt.cmd(&["delete", "--force", &id]).ok();
    assert!(!cg.exists(), "{} left behind", cg.display());
}

#[test]
fn cpu_max_throttles_a_busy_loop() {
    if !in_vm("cpu_max_throttles_a_busy_loop") {
        return;
    }
    let rt = Runtime::unconfined();
    let b = Bundle::sh("while :; do :; done");
    b.edit(|c| c["linux"]["resources"]["cpu"] = json!({"quota": 20000, "period": 100000, "shares": 1024}));
    let id = unique("cpu");
    start(&rt, &id, &b);
    let cg = cgroup_of(&rt, &id);
    assert_eq!(read(cg.join("cpu.max")).trim(), "20000 100000");
    assert_eq!(read(cg.join("cpu.weight")).trim(), "39", "1024 shares, runc's formula");
    let (s0, t0) = (stats(&rt, &id), Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let (s1, t1) = (stats(&rt, &id), Instant::now());
    let used = s1["cpu"]["usage"]["total"].as_u64().unwrap() - s0["cpu"]["usage"]["total"].as_u64().unwrap();
    let ratio = used as f64 / (t1 - t0).as_nanos() as f64;
    note("cpu_max_throttles_a_busy_loop", &format!("usage/wall = {ratio:.3} with a 20% quota"));
    // A busy loop alone would use a whole CPU (1.0); the quota allows 0.2. Wide margins.
    assert!(ratio < 0.5, "usage/wall {ratio:.3}: not throttled");
    assert!(ratio > 0.02, "usage/wall {ratio:.3}: the loop did not run");
    assert!(s1["cpu"]["throttling"]["throttledPeriods"].as_u64().unwrap() > 0, "{}", s1["cpu"]);
    rt.cmd(&["delete", "--force", &id]).ok();
}

#[test]
fn fork_bomb_stops_at_pids_max_and_minus_one_means_no_limit() {
    if !in_vm("fork_bomb_stops_at_pids_max_and_minus_one_means_no_limit") {
        return;
    }
    let rt = Runtime::unconfined();
    // The subshell forks until the kernel refuses; the init outlives it.
    let b = WorkBundle::new(
        "(i=0; while [ $i -lt 50 ]; do sleep 1000 & i=$((i+1)); done) 2>/work/err; \
         echo $? > /work/done; exec sleep 1000",
    );
    b.resources("pids", json!({"limit": 8}));
    let id = unique("pids");
    start(&rt, &id, &b.bundle);
    b.wait_file("done", 60);
    let cg = cgroup_of(&rt, &id);
    assert!(read(b.file("err")).contains("fork"), "no fork failure: {}", read(b.file("err")));
    let max_hits: u64 = read(cg.join("pids.events")).trim().strip_prefix("max ").unwrap().parse().unwrap();
    assert!(max_hits > 0, "the kernel never refused a fork at pids.max");
    let procs = ps(&rt, &id);
    assert!(procs.len() <= 8 && procs.len() >= 2, "{procs:?}");
    let s = stats(&rt, &id);
    assert_eq!(s["pids"]["limit"], 8);
    assert!(s["pids"]["current"].as_u64().unwrap() <= 8);
    rt.cmd(&["delete", "--force", &id]).ok();

    let b = Bundle::sh("cat /sys/fs/cgroup/pids.max");
    b.edit(|c| c["linux"]["resources"]["pids"] = json!({"limit": -1}));
    let r = rt.run(&unique("pids"), &b);
    assert_eq!((r.code, r.stdout.as_str()), (0, "max\n"), "{}", r.stderr);

    b.edit(|c| c["linux"]["resources"]["pids"] = json!({"limit": 0}));
    rt.create(&unique("pids"), &b, &[]).fails_with("linux.resources.pids.limit: 0 is ambiguous");
}

#[test]
fn io_max_throttles_direct_writes_to_the_raw_disk() {
    if !in_vm("io_max_throttles_direct_writes_to_the_raw_disk") {
        return;
    }
    let (_, major, minor) = io_disk();
    let rt = Runtime::unconfined();
    // 4 MiB with O_DIRECT (no page cache to absorb it), timed inside the container.
    let b = Bundle::sh(
        "read a _ < /proc/uptime; dd if=/dev/zero of=/dev/iodisk bs=64k count=64 oflag=direct 2>/dev/null; \
         rc=$?; read z _ < /proc/uptime; echo $rc $a $z",
    );
    b.edit(|c| {
        c["linux"]["devices"] =
            json!([{"path": "/dev/iodisk", "type": "b", "major": major, "minor": minor, "fileMode": 432}]);
        c["linux"]["resources"]["devices"] = json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "b", "major": major, "minor": minor, "access": "rw"}
        ]);
        c["linux"]["resources"]["blockIO"] =
            json!({"throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": MIB}]});
    });
    let r = rt.run(&unique("io"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f: Vec<f64> = r.stdout.split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert_eq!(f[0], 0.0, "dd failed: {}", r.stdout);
    let rate = 4.0 / (f[2] - f[1]).max(0.01);
    note("io_max_throttles_direct_writes_to_the_raw_disk", &format!("{rate:.2} MiB/s with a 1 MiB/s limit"));
    // Unthrottled this disk takes about 200 MiB/s.
    assert!(rate < 2.0, "{rate:.2} MiB/s: not throttled to 1 MiB/s");
}

#[test]
fn cpuset_pins_the_container() {
    if !in_vm("cpuset_pins_the_container") {
        return;
    }
    let rt = Runtime::unconfined();
    let b = Bundle::sh("grep Cpus_allowed_list /proc/self/status");
    b.edit(|c| c["linux"]["resources"]["cpu"] = json!({"cpus": "1", "mems": "0"}));
    let r = rt.run(&unique("cpuset"), &b);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Cpus_allowed_list:\t1\n"), "{}", r.stderr);
}

#[test]
fn device_filter_denies_mknod_and_open_and_allows_the_defaults() {
    if !in_vm("device_filter_denies_mknod_and_open_and_allows_the_defaults") {
        return;
    }
    let (_, major, minor) = io_disk();
    let rt = Runtime::unconfined();
    let report = device_filter_report(&rt, &unique("dev"), ("b", major, minor));
    assert_device_filter(&report);
}

#[test]
fn pause_freezes_and_resume_thaws() {
    if !in_vm("pause_freezes_and_resume_thaws") {
        return;
    }
    let rt = Runtime::unconfined();
    let b = WorkBundle::new("i=0; while true; do i=$((i+1)); echo $i > /work/count; sleep 0.05; done");
    b.resources("memory", json!({"limit": 64 * MIB}));
    let id = unique("pause");
    start(&rt, &id, &b.bundle);
    b.wait_file("count", 30);
    let cg = cgroup_of(&rt, &id);
    rt.cmd(&["pause", &id]).ok();
    assert_eq!(rt.status(&id), "paused");
    assert!(read(cg.join("cgroup.events")).lines().any(|l| l == "frozen 1"));
    let frozen = read(b.file("count"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(read(b.file("count")), frozen, "a paused container made progress");
    rt.cmd(&["resume", &id]).ok();
    assert_eq!(rt.status(&id), "running");
    assert!(read(cg.join("cgroup.events")).lines().any(|l| l == "frozen 0"));
    wait_for("the counter to move again", 30, || (read(b.file("count")) != frozen).then_some(()));
    rt.cmd(&["delete", "--force", &id]).ok();
}

#[test]
fn update_raises_memory_max_live() {
    if !in_vm("update_raises_memory_max_live") {
        return;
    }
    let rt = Runtime::unconfined();
    let hog = "dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null";
    let b = WorkBundle::new(&format!(
        "while [ ! -e /work/go1 ]; do sleep 0.05; done; {hog}; echo $? > /work/r1; \
         while [ ! -e /work/go2 ]; do sleep 0.05; done; {hog}; echo $? > /work/r2; exec sleep 1000"
    ));
    b.resources("memory", json!({"limit": 32 * MIB}));
    let id = unique("upd");
    start(&rt, &id, &b.bundle);
    let cg = cgroup_of(&rt, &id);
    std::fs::write(b.file("go1"), "").unwrap();
    assert_eq!(b.wait_file("r1", 60), "137", "48 MiB must not fit in 32 MiB");

    // What containerd's shim does: JSON LinuxResources on stdin, device rules included (and
    // left alone, as runc does).
    let new = json!({"memory": {"limit": 96 * MIB}, "devices": [{"allow": false, "access": "rwm"}]});
    let mut child = rt
        .command()
        .args(["update", "--resources", "-", &id])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(new.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "update: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(read(cg.join("memory.max")).trim(), (96 * MIB).to_string());
    assert_eq!(stats(&rt, &id)["memory"]["usage"]["limit"], 96 * MIB);
    std::fs::write(b.file("go2"), "").unwrap();
    assert_eq!(b.wait_file("r2", 60), "0", "48 MiB fits in 96 MiB");

    // runc's flags; controllers the container did not use yet get enabled on the way.
    rt.cmd(&["update", "--pids-limit", "50", "--cpu-quota", "50000", &id]).ok();
    assert_eq!(read(cg.join("pids.max")).trim(), "50");
    assert_eq!(read(cg.join("cpu.max")).trim(), "50000 100000");
    assert_eq!(read(cg.join("memory.max")).trim(), (96 * MIB).to_string(), "kept from the last update");
    rt.cmd(&["delete", "--force", &id]).ok();
}

#[test]
fn ps_kill_all_and_delete_in_a_cgroup_named_by_cgroups_path() {
    if !in_vm("ps_kill_all_and_delete_in_a_cgroup_named_by_cgroups_path") {
        return;
    }
    let mount = v2_mount().unwrap();
    let rt = Runtime::unconfined();
    let top = unique("scutum-vm");
    let b = WorkBundle::new(
        "sleep 1000 & sleep 1000 & trap '' TERM; echo up > /work/up; while true; do sleep 1; done",
    );
    b.cgroups_path(&format!("/{top}/pod/c"));
    b.resources("memory", json!({"limit": 64 * MIB}));
    b.resources("pids", json!({"limit": 100}));
    let id = unique("ps");
    start(&rt, &id, &b.bundle);
    b.wait_file("up", 30);
    let cg = cgroup_of(&rt, &id);
    assert_eq!(cg, mount.join(&top).join("pod/c"), "the init is in the cgroup cgroupsPath names");
    // Only what the limits need was enabled above it.
    let enabled = read(mount.join(&top).join("pod/cgroup.subtree_control"));
    assert_eq!(enabled.split_whitespace().collect::<Vec<_>>(), ["memory", "pids"]);

    let init = rt.state(&id)["pid"].as_i64().unwrap();
    let procs = ps(&rt, &id);
    assert!(procs.contains(&init) && procs.len() >= 3, "{procs:?}");
    let table = rt.cmd(&["ps", &id, "-o", "pid,args"]).ok().stdout;
    assert_eq!(table.lines().filter(|l| l.ends_with("sleep 1000")).count(), 2, "{table}");

    rt.cmd(&["kill", "--all", &id, "TERM"]).ok();
    wait_for("only the init to be left", 30, || {
        let p = ps(&rt, &id);
        let long =
            |x: i64| std::fs::read_to_string(format!("/proc/{x}/cmdline")).is_ok_and(|c| c.contains("1000"));
        (!p.iter().any(|&x| x != init && long(x))).then_some(())
    });
    assert_eq!(rt.status(&id), "running", "the init ignores TERM");
    rt.cmd(&["delete", "--force", &id]).ok();
    assert!(!cg.exists() && !mount.join(&top).exists(), "cgroups left behind under {top}");
}

#[test]
fn unified_hugetlb_and_io_weight_are_written_and_unknown_keys_refused() {
    if !in_vm("unified_hugetlb_and_io_weight_are_written_and_unknown_keys_refused") {
        return;
    }
    let rt = Runtime::unconfined();
    let b = Bundle::sh(
        "cd /sys/fs/cgroup; cat memory.high pids.max hugetlb.2MB.max; \
         cat io.bfq.weight 2>/dev/null || cat io.weight; grep '^0::' /proc/self/cgroup",
    );
    b.edit(|c| {
        c["linux"]["resources"]["unified"] = json!({"memory.high": "52428800", "pids.max": "33"});
        c["linux"]["resources"]["hugepageLimits"] = json!([{"pageSize": "2MB", "limit": 0}]);
        c["linux"]["resources"]["blockIO"] = json!({"weight": 500});
    });
    let r = rt.run(&unique("uni"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[..3], ["52428800", "33", "0"], "{}", r.stdout);
    assert!(lines[3] == "default 500" || lines[3] == "default 4950", "io weight: {}", lines[3]);
    assert_eq!(lines[4], "0::/", "the container sees only its own cgroup");

    let mount = v2_mount().unwrap();
    for (key, want) in [
        ("foo.bar", "linux.resources.unified.foo.bar: unknown controller \"foo\"".to_string()),
        ("cgroup.subtree_control", "linux.resources.unified.cgroup.subtree_control: only".to_string()),
        (
            "memory.nonexistent",
            "linux.resources.unified.memory.nonexistent: cannot write \"1\" to".to_string(),
        ),
    ] {
        let b = Bundle::sh("true");
        b.edit(|c| c["linux"]["resources"]["unified"] = json!({key: "1"}));
        let id = unique("uni");
        rt.create(&id, &b, &[]).fails_with(&want);
        assert!(rt.ids().is_empty());
        assert!(!mount.join("scutum").join(&id).exists(), "cgroup left behind");
    }
}
