//! The environment every runtime shares: the work directory, the busybox rootfs, the two
//! bundles (`/bin/true` and a long-running `sleep`), crun's cgroup workaround, and the machine
//! description printed with the results.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Result<T> = std::result::Result<T, String>;

/// Busybox applets the bundles use (the rootfs holds nothing else).
const APPLETS: &[&str] = &["sh", "true", "false", "sleep", "cat", "ls"];

/// Finds `name` on PATH (absolute path), so every runtime is spawned by absolute path and none
/// pays for a PATH search at spawn time.
pub fn which(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} not found on PATH (benches/run.sh installs it)"))
}

/// Whether the ELF file at `path` has a PT_INTERP header (a dynamic loader), i.e. is
/// dynamically linked. `None` if it is not a readable 64-bit ELF.
pub fn is_dynamic(path: &Path) -> Option<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = [0u8; 64];
    f.read_exact(&mut h).ok()?;
    if &h[..4] != b"\x7fELF" || h[4] != 2 {
        return None;
    }
    let phoff = u64::from_le_bytes(h[0x20..0x28].try_into().ok()?);
    let phentsize = usize::from(u16::from_le_bytes([h[0x36], h[0x37]]));
    let phnum = usize::from(u16::from_le_bytes([h[0x38], h[0x39]]));
    if phentsize < 4 {
        return None;
    }
    // Only the program headers are read: a whole binary read here would set the driver's
    // peak RSS, which forked children inherit (see spawn.rs).
    let mut ph = vec![0u8; phentsize.checked_mul(phnum)?];
    f.seek(SeekFrom::Start(phoff)).ok()?;
    f.read_exact(&mut ph).ok()?;
    const PT_INTERP: u32 = 3;
    Some(ph.chunks_exact(phentsize).any(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]) == PT_INTERP))
}

/// The host's statically linked busybox (Debian: busybox-static).
fn static_busybox() -> Result<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| is_dynamic(p) == Some(false))
        .ok_or_else(|| "a static busybox is needed (apt-get install busybox-static)".to_string())
}

/// Builds `<work>/rootfs`: busybox, its applets as symlinks, and the mount points.
pub fn make_rootfs(work: &Path) -> Result<PathBuf> {
    let rootfs = work.join("rootfs");
    let err = |what: &str, e: std::io::Error| format!("rootfs: {what}: {e}");
    for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "root", "run"] {
        std::fs::create_dir_all(rootfs.join(d)).map_err(|e| err(d, e))?;
    }
    std::fs::copy(static_busybox()?, rootfs.join("bin/busybox")).map_err(|e| err("copy busybox", e))?;
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a)).map_err(|e| err(a, e))?;
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
        .map_err(|e| err("etc/passwd", e))?;
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").map_err(|e| err("etc/group", e))?;
    Ok(rootfs)
}

/// The config `runc spec` writes (asked of runc once, so all runtimes get runc's defaults).
pub fn runc_spec(runc: &Path, work: &Path) -> Result<Value> {
    let dir = work.join("spec");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = Command::new(runc)
        .args(["spec", "--bundle"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("runc spec: {e}"))?;
    if !out.status.success() {
        return Err(format!("runc spec failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = std::fs::read(dir.join("config.json")).map_err(|e| format!("runc spec output: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_slice(&text).map_err(|e| format!("runc spec output: {e}"))
}

/// Writes `<work>/<name>/config.json`: the runc spec with `args`, no terminal, the shared
/// read-only rootfs, and ociVersion 1.0.2-dev (crun 1.8.1 rejects 1.2.0).
pub fn make_bundle(work: &Path, name: &str, base: &Value, rootfs: &Path, args: &[&str]) -> Result<PathBuf> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut c = base.clone();
    c["ociVersion"] = json!("1.0.2-dev");
    c["process"]["terminal"] = json!(false);
    c["process"]["args"] = json!(args);
    c["root"] = json!({ "path": rootfs, "readonly": true });
    let text = serde_json::to_vec_pretty(&c).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("config.json"), text).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// The unified hierarchy's controller list on a hybrid host.
const UNIFIED_CONTROLLERS: &str = "/sys/fs/cgroup/unified/cgroup.controllers";

/// crun 1.8.1 refuses to start on a hybrid host whose unified hierarchy lists controllers.
/// In this process's private mount namespace (see main.rs) an empty file is bind-mounted over
/// that one file; the host's mounts and cgroups are not touched. Returns a note for the report.
pub fn hide_unified_controllers(work: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(UNIFIED_CONTROLLERS) {
        Ok(s) if !s.trim().is_empty() => {}
        _ => return Ok(None),
    }
    let empty = work.join("empty-cgroup.controllers");
    std::fs::write(&empty, "").map_err(|e| format!("{}: {e}", empty.display()))?;
    let st = Command::new("mount")
        .arg("--bind")
        .arg(&empty)
        .arg(UNIFIED_CONTROLLERS)
        .status()
        .map_err(|e| format!("mount --bind: {e}"))?;
    if !st.success() {
        return Err(format!("mount --bind {} {UNIFIED_CONTROLLERS} failed", empty.display()));
    }
    Ok(Some(format!(
        "hybrid cgroup host: {UNIFIED_CONTROLLERS} is bind-mounted empty inside the benchmark's \
         private mount namespace (crun 1.8.1 refuses to start otherwise); all runtimes run there"
    )))
}

/// Mounts a tmpfs on `dir` (inside the benchmark's private mount namespace) for the runtimes'
/// state roots: on a real host their defaults (/run/runc, /run/crun, /run/scutum) are on tmpfs,
/// and a root on a journaling disk (this VM's /run is ext4) would measure the disk instead.
pub fn tmpfs_roots(dir: &Path) -> Result<String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "mode=0700,size=256m", "tmpfs"])
        .arg(dir)
        .status()
        .map_err(|e| format!("mount tmpfs: {e}"))?;
    if !st.success() {
        return Err(format!("mount -t tmpfs on {} failed", dir.display()));
    }
    Ok(format!(
        "state roots on a tmpfs ({}), as the runtimes' defaults under /run are on a real host",
        dir.display()
    ))
}

/// Removes (rmdir, never recursive) cgroup directories named `<prefix>*` that a runtime left
/// behind, anywhere up to four levels below /sys/fs/cgroup (runc nests some controllers under
/// its own cgroup). Returns what it found.
pub fn remove_leftover_cgroups(prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    walk_cgroups(Path::new("/sys/fs/cgroup"), prefix, 4, &mut found);
    found
}

fn walk_cgroups(dir: &Path, prefix: &str, depth: u32, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(|e| e.ok()) {
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir(e.path());
            found.push(e.path().display().to_string());
        } else if depth > 1 {
            walk_cgroups(&e.path(), prefix, depth - 1, found);
        }
    }
}

/// Mount points under `dir` in this mount namespace (should be none after cleanup).
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let d = dir.display().to_string();
    text.lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(&d)).map(String::from).collect()
}

fn first_line(cmd: &Path, arg: &str) -> String {
    Command::new(cmd)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

fn proc_field(file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().into())
}

fn cgroup_layout() -> &'static str {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "cgroup v2 (unified)"
    } else if Path::new("/sys/fs/cgroup/unified").is_dir() {
        "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
    } else {
        "cgroup v1"
    }
}

/// CPU time counters, to tell how much of the machine other work took during a run.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    /// All CPUs, all states (clock ticks).
    total: u64,
    /// All CPUs, busy (user, nice, system, irq, softirq, steal).
    busy: u64,
    /// This driver and the runtimes it waited for (utime, stime, cutime, cstime).
    own: u64,
}

impl CpuSnapshot {
    pub fn now() -> CpuSnapshot {
        let nums = |l: &str| l.split_whitespace().filter_map(|f| f.parse::<u64>().ok()).collect::<Vec<_>>();
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpu = stat.lines().next().map(nums).unwrap_or_default();
        let get = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal
        let busy = [0, 1, 2, 5, 6, 7].iter().map(|&i| get(&cpu, i)).sum();
        let total = busy + get(&cpu, 3) + get(&cpu, 4);
        let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name: state is field 3, utime..cstime are fields 14-17.
        let rest = me.rsplit_once(')').map_or(String::new(), |(_, r)| r.to_string());
        let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
        let own = (11..15).map(|i| get(&f, i)).sum();
        CpuSnapshot { total, busy, own }
    }

    /// Share of all CPUs that something other than this benchmark used since `self`
    /// (approximate: kernel work the runtimes cause, such as network namespace cleanup, and
    /// container processes reaped by init count as "other").
    pub fn others_share_since(&self) -> f64 {
        let now = CpuSnapshot::now();
        let total = now.total.saturating_sub(self.total).max(1) as f64;
        let busy = now.busy.saturating_sub(self.busy);
        let own = now.own.saturating_sub(self.own);
        busy.saturating_sub(own) as f64 / total
    }
}

/// CPU ticks of every process, to name what else ran during a measurement.
pub struct ProcSnapshot(std::collections::HashMap<i32, (u64, u64)>);

/// (comm, start time, utime + stime) of every process now.
fn processes() -> Vec<(i32, String, u64, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1.to_string();
            let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
            // Field N of /proc/<pid>/stat is f[N - 3]: utime 14, stime 15, starttime 22.
            Some((pid, comm, *f.get(19)?, f.get(11)? + f.get(12)?))
        })
        .collect()
}

impl ProcSnapshot {
    pub fn now() -> ProcSnapshot {
        ProcSnapshot(processes().into_iter().map(|(pid, _, start, t)| (pid, (start, t))).collect())
    }

    /// The processes other than this one that used the most CPU since the snapshot (seconds,
    /// by command name), among those still alive. Kernel threads count: the runtimes' own
    /// kernel work (network namespace cleanup) shows up here as kworkers.
    pub fn top_others(&self, n: usize) -> Vec<(String, f64)> {
        let me = std::process::id() as i32;
        let hz = 100.0; // USER_HZ on Linux
        let mut by_comm: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for (pid, comm, start, t) in processes() {
            if pid == me {
                continue;
            }
            let before = match self.0.get(&pid) {
                Some(&(s, t0)) if s == start => t0,
                _ => 0,
            };
            *by_comm.entry(comm).or_default() += t.saturating_sub(before);
        }
        let mut v: Vec<(String, f64)> =
            by_comm.into_iter().filter(|(_, t)| *t > 0).map(|(c, t)| (c, t as f64 / hz)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.truncate(n);
        v
    }
}

/// The 1-, 5- and 15-minute load averages.
pub fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// What the results were measured on.
pub fn machine(runc: &Path, crun: &Path, scutum: &Path) -> Value {
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string()))
        })
        .unwrap_or_else(|| "unknown".into());
    let linkage = match is_dynamic(scutum) {
        Some(true) => "dynamically linked",
        Some(false) => "statically linked",
        None => "unknown linkage",
    };
    let size = std::fs::metadata(scutum).map(|m| m.len()).unwrap_or(0);
    json!({
        "cpu": proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory": proc_field("/proc/meminfo", "MemTotal").unwrap_or_else(|| "unknown".into()),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "os": os,
        "cgroups": cgroup_layout(),
        "runc": first_line(runc, "--version"),
        "crun": first_line(crun, "--version"),
        "scutum": format!("{} ({}, {linkage}, {size} bytes)", first_line(scutum, "--version"), scutum.display()),
        "date": scutum::log::rfc3339(std::time::SystemTime::now()),
        "load_before": loadavg(),
    })
}
