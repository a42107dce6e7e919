//! Statistics in the shape of runc's `events` data (runc's types/events.go `Stats`), read from
//! the cgroup v2 files: cpu.stat, memory.{stat,events,current,max,peak}, memory.swap.*,
//! pids.{current,max}, io.stat, hugetlb.*, cpuset.*.effective. A file that does not exist
//! (its controller is not enabled for the container) leaves its part at zero, as in runc.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name)).ok()
}

/// A single-number file; "max" is u64::MAX (runc's convention for "no limit").
fn number(dir: &Path, name: &str) -> Option<u64> {
    let t = read(dir, name)?;
    let t = t.trim();
    if t == "max" {
        Some(u64::MAX)
    } else {
        t.parse().ok()
    }
}

/// A "key value" per line file (cpu.stat, memory.stat, memory.events).
pub fn keyed(dir: &Path, name: &str) -> BTreeMap<String, u64> {
    read(dir, name)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// How many processes of the cgroup the OOM killer has killed (`memory.events` oom_kill);
/// `None` without the memory controller.
pub fn oom_kills(dir: &Path) -> Option<u64> {
    read(dir, "memory.events")?;
    Some(keyed(dir, "memory.events").get("oom_kill").copied().unwrap_or(0))
}

/// "0-2,5" -> [0, 1, 2, 5].
fn cpu_list(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                    out.extend(a..=b.min(a + 65_535));
                }
            }
            None => out.extend(part.parse::<u64>().ok()),
        }
    }
    out
}

fn cpu(dir: &Path) -> Value {
    let s = keyed(dir, "cpu.stat");
    let g = |k: &str| s.get(k).copied().unwrap_or(0);
    json!({
        "usage": {"total": g("usage_usec") * 1000, "kernel": g("system_usec") * 1000, "user": g("user_usec") * 1000},
        "throttling": {
            "periods": g("nr_periods"),
            "throttledPeriods": g("nr_throttled"),
            "throttledTime": g("throttled_usec") * 1000
        }
    })
}

fn memory(dir: &Path) -> Value {
    let raw = keyed(dir, "memory.stat");
    let events = keyed(dir, "memory.events");
    let ev = |k: &str| events.get(k).copied().unwrap_or(0);
    let usage = number(dir, "memory.current").unwrap_or(0);
    let limit = number(dir, "memory.max").unwrap_or(u64::MAX);
    // runc reports swap v1-style: memory+swap, for both usage and limit.
    let swap_usage = number(dir, "memory.swap.current").map_or(0, |s| s + usage);
    let swap_limit = match number(dir, "memory.swap.max") {
        Some(s) if s != u64::MAX && limit != u64::MAX => s + limit,
        _ => u64::MAX,
    };
    let swap_failcnt = keyed(dir, "memory.swap.events").get("max").copied().unwrap_or(0);
    let mut usage_entry = json!({"limit": limit, "usage": usage, "failcnt": ev("max")});
    if let Some(peak) = number(dir, "memory.peak") {
        usage_entry["max"] = json!(peak);
    }
    json!({
        "cache": raw.get("file").copied().unwrap_or(0),
        "usage": usage_entry,
        "swap": {"limit": swap_limit, "usage": swap_usage, "failcnt": swap_failcnt},
        "kernel": {"limit": 0, "failcnt": 0},
        "kernelTCP": {"limit": 0, "failcnt": 0},
        "raw": raw,
        "event_count": {"low": ev("low"), "high": ev("high"), "max": ev("max"), "oom": ev("oom"), "oom_kill": ev("oom_kill")}
    })
}

fn pids(dir: &Path) -> Value {
    // No limit is 0 in runc's stats.
    let limit = number(dir, "pids.max").filter(|&m| m != u64::MAX).unwrap_or(0);
    json!({"current": number(dir, "pids.current").unwrap_or(0), "limit": limit})
}

fn blkio(dir: &Path) -> Value {
    let mut bytes = Vec::new();
    let mut ios = Vec::new();
    for line in read(dir, "io.stat").unwrap_or_default().lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else { continue };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let Ok(v) = v.parse::<u64>() else { continue };
            let (table, op) = match k {
                "rbytes" => (&mut bytes, "Read"),
                "wbytes" => (&mut bytes, "Write"),
                "rios" => (&mut ios, "Read"),
                "wios" => (&mut ios, "Write"),
                _ => continue,
            };
            table.push(json!({"major": major, "minor": minor, "op": op, "value": v}));
        }
    }
    json!({"ioServiceBytesRecursive": bytes, "ioServicedRecursive": ios})
}

fn hugetlb(dir: &Path) -> Value {
    let mut m = Map::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Value::Object(m) };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(size) = name.strip_prefix("hugetlb.").and_then(|n| n.strip_suffix(".current")) else {
            continue;
        };
        if size.contains('.') {
            continue; // hugetlb.2MB.rsvd.current
        }
        let failcnt = keyed(dir, &format!("hugetlb.{size}.events")).get("max").copied().unwrap_or(0);
        m.insert(size.to_string(), json!({"usage": number(dir, &name).unwrap_or(0), "failcnt": failcnt}));
    }
    Value::Object(m)
}

/// The `data` of a `{"type":"stats"}` event for the cgroup at `dir`.
pub fn stats(dir: &Path) -> Value {
    json!({
        "cpu": cpu(dir),
        "cpuset": {
            "cpus": cpu_list(&read(dir, "cpuset.cpus.effective").unwrap_or_default()),
            "mems": cpu_list(&read(dir, "cpuset.mems.effective").unwrap_or_default())
        },
        "memory": memory(dir),
        "pids": pids(dir),
        "blkio": blkio(dir),
        "hugetlb": hugetlb(dir),
        "intel_rdt": {},
        "network_interfaces": null
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_fake_cgroup_in_runcs_shape() {
        let d = std::env::temp_dir().join(format!("scutum-stats-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let files = [
            (
                "cpu.stat",
                "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 5\nnr_throttled 3\nthrottled_usec 7\n",
            ),
            ("memory.current", "4096\n"),
            ("memory.max", "max\n"),
            ("memory.stat", "anon 100\nfile 200\n"),
            ("memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n"),
            ("pids.current", "3\n"),
            ("pids.max", "max\n"),
            ("io.stat", "254:16 rbytes=1 wbytes=4194304 rios=1 wios=64 dbytes=0 dios=0\n"),
            ("hugetlb.2MB.current", "0\n"),
            ("hugetlb.2MB.rsvd.current", "0\n"),
            ("cpuset.cpus.effective", "0-1,3\n"),
        ];
        for (f, t) in files {
            std::fs::write(d.join(f), t).unwrap();
        }
        let s = stats(&d);
        assert_eq!(s["cpu"]["usage"]["total"], 10_000);
        assert_eq!(s["cpu"]["throttling"]["throttledPeriods"], 3);
        assert_eq!(s["memory"]["usage"]["usage"], 4096);
        assert_eq!(s["memory"]["usage"]["limit"], u64::MAX);
        assert_eq!(s["memory"]["cache"], 200);
        assert_eq!(s["memory"]["event_count"]["oom_kill"], 1);
        assert_eq!(s["memory"]["raw"]["anon"], 100);
        assert_eq!(s["pids"], json!({"current": 3, "limit": 0}));
        assert_eq!(
            s["blkio"]["ioServiceBytesRecursive"][1],
            json!({"major": 254, "minor": 16, "op": "Write", "value": 4194304})
        );
        assert_eq!(s["hugetlb"].as_object().unwrap().keys().collect::<Vec<_>>(), ["2MB"]);
        assert_eq!(s["cpuset"]["cpus"], json!([0, 1, 3]));
        assert_eq!(oom_kills(&d), Some(1));
        std::fs::remove_dir_all(&d).unwrap();
        assert_eq!(oom_kills(&d), None);
    }
}
