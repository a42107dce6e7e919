//! `update`: change a running container's limits, as `runc update` does. The new values
//! (`--resources FILE|-` as JSON LinuxResources, or runc's flags) are merged into the effective
//! config stored at create time, the merged resources are applied to the container's cgroup
//! (device rules excepted: like runc, update never changes them), and the merged config is
//! saved for the next update.

use super::cgroup_of;
use crate::cgroups;
use crate::cli::{GlobalArgs, UpdateArgs};
use crate::container::{validate_id, Container, ContainerError, StateDir, Status, CONFIG_FILE};
use crate::error::{Error, Result};
use crate::{log, spec};
use oci_spec::runtime::{LinuxResources, Spec};
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;

pub fn run(g: &GlobalArgs, a: &UpdateArgs) -> Result<i32> {
    validate_id(&a.id)?;
    // Locked: the stored config is read, merged and written back.
    let dir = StateDir::open(&g.root, &a.id)?;
    let c = Container::load(&g.root, &a.id)?;
    if c.status() == Status::Stopped {
        return Err(ContainerError::NotRunning(a.id.clone()).into());
    }
    let cg = cgroup_of(&c, "update")?;
    let changes = match &a.resources {
        Some(p) => read_resources(p)?,
        None => from_flags(a)?,
    };
    let mut config: Value = spec::load_json(&dir.file(CONFIG_FILE))?;
    let current = config.pointer("/linux/resources").cloned().unwrap_or(json!({}));
    let merged = merge_resources(current, changes);
    let resources: LinuxResources = serde_json::from_value(merged.clone())
        .map_err(|e| Error::Usage(format!("update: the merged resources are not valid: {e}")))?;
    cgroups::update_resources(cg, &resources, Path::new("/proc"))?;
    config["linux"]["resources"] = merged;
    // Keep what is stored a valid config.
    let _: Spec = serde_json::from_value(config.clone()).map_err(|e| Error::Usage(format!("update: {e}")))?;
    dir.write_atomic(CONFIG_FILE, &serde_json::to_vec(&config).expect("json"))?;
    Ok(0)
}

/// JSON LinuxResources from a file or stdin (`-`).
fn read_resources(p: &Path) -> Result<Value> {
    let mut text = String::new();
    let res = if p == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut text)).map(drop)
    };
    res.map_err(|e| Error::host(format!("read --resources {}", p.display()), e))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("--resources {}: not JSON: {e}", p.display())))?;
    // Checked for shape here so a typo names the flag, not the merged config.
    serde_json::from_value::<LinuxResources>(v.clone())
        .map_err(|e| Error::Usage(format!("--resources {}: not LinuxResources: {e}", p.display())))?;
    Ok(v)
}

/// runc's update flags as a LinuxResources JSON object.
fn from_flags(a: &UpdateArgs) -> Result<Value> {
    if a.l3_cache_schema.is_some() || a.mem_bw_schema.is_some() {
        return Err(Error::Usage("--l3-cache-schema, --mem-bw-schema: Intel RDT is not supported".into()));
    }
    for (flag, v) in [("--kernel-memory", &a.kernel_memory), ("--kernel-memory-tcp", &a.kernel_memory_tcp)] {
        if v.is_some() {
            log::warn(&format!("{flag} is ignored (obsolete; kernel memory is part of the memory limit)"));
        }
    }
    let mut r = json!({});
    if let Some(w) = a.blkio_weight {
        r["blockIO"]["weight"] = json!(w);
    }
    let cpu = [
        ("period", a.cpu_period.map(|v| json!(v))),
        ("quota", a.cpu_quota.map(|v| json!(v))),
        ("burst", a.cpu_burst.map(|v| json!(v))),
        ("shares", a.cpu_share.map(|v| json!(v))),
        ("realtimePeriod", a.cpu_rt_period.map(|v| json!(v))),
        ("realtimeRuntime", a.cpu_rt_runtime.map(|v| json!(v))),
        ("idle", a.cpu_idle.map(|v| json!(v))),
        ("cpus", a.cpuset_cpus.as_ref().map(|v| json!(v))),
        ("mems", a.cpuset_mems.as_ref().map(|v| json!(v))),
    ];
    for (k, v) in cpu {
        if let Some(v) = v {
            r["cpu"][k] = v;
        }
    }
    for (flag, key, v) in [
        ("--memory", "limit", &a.memory),
        ("--memory-reservation", "reservation", &a.memory_reservation),
        ("--memory-swap", "swap", &a.memory_swap),
    ] {
        if let Some(text) = v {
            let n = parse_size(text)
                .ok_or_else(|| Error::Usage(format!("{flag} {text:?}: not a size like 512m")))?;
            r["memory"][key] = json!(n);
        }
    }
    if let Some(p) = a.pids_limit {
        r["pids"]["limit"] = json!(p);
    }
    Ok(r)
}

/// Merges `changes` into the stored resources: objects field by field, anything else replaced.
/// Device rules and network are dropped from the changes (update never touches them). As in
/// runc, a memory limit of -1 without a swap value makes swap unlimited too.
fn merge_resources(mut current: Value, mut changes: Value) -> Value {
    if let Some(obj) = changes.as_object_mut() {
        for key in ["devices", "network"] {
            if obj.remove(key).is_some() {
                log::debug(&format!("update: linux.resources.{key} is not updated"));
            }
        }
    }
    if changes.pointer("/memory/limit") == Some(&json!(-1)) && changes.pointer("/memory/swap").is_none() {
        changes["memory"]["swap"] = json!(-1);
    }
    merge(&mut current, changes);
    current
}

fn merge(base: &mut Value, change: Value) {
    match (base, change) {
        (Value::Object(b), Value::Object(c)) => {
            for (k, v) in c {
                if !v.is_null() {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, c) => *b = c,
    }
}

/// A size as Docker and runc take it: bytes, or a number with k, m, g, t, p (powers of 1024),
/// optionally followed by i and/or b ("512m", "1.5GiB"); "-1" for no limit.
pub fn parse_size(s: &str) -> Option<i64> {
    if s == "-1" {
        return Some(-1);
    }
    let num_len = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let value: f64 = s[..num_len].parse().ok()?;
    let mut unit = s[num_len..].trim_start_matches(' ').to_ascii_lowercase();
    if unit.ends_with('b') {
        unit.pop();
    }
    if unit.len() == 2 && unit.ends_with('i') {
        unit.pop();
    }
    let mult: f64 = match unit.as_str() {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return None,
    };
    let n = value * mult;
    (n.is_finite() && n < i64::MAX as f64).then_some(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("64 kb"), Some(64 << 10));
        assert_eq!(parse_size("-1"), Some(-1));
        for bad in ["", "m", "12x", "-2", "1e9"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn merges_field_by_field_and_leaves_devices_alone() {
        let cur = json!({"memory": {"limit": 100, "swap": 300}, "pids": {"limit": 5}, "devices": [{"allow": false, "access": "rwm"}]});
        let m =
            merge_resources(cur, json!({"memory": {"limit": 200}, "devices": [], "cpu": {"quota": 1000}}));
        assert_eq!(
            m,
            json!({"memory": {"limit": 200, "swap": 300}, "pids": {"limit": 5}, "devices": [{"allow": false, "access": "rwm"}], "cpu": {"quota": 1000}})
        );
        let m =
            merge_resources(json!({"memory": {"limit": 100, "swap": 300}}), json!({"memory": {"limit": -1}}));
        assert_eq!(m, json!({"memory": {"limit": -1, "swap": -1}}));
    }

    #[test]
    fn flags_become_resources() {
        let a = UpdateArgs {
            memory: Some("64m".into()),
            cpu_quota: Some(-1),
            cpu_share: Some(512),
            pids_limit: Some(20),
            blkio_weight: Some(300),
            cpuset_cpus: Some("0".into()),
            ..Default::default()
        };
        assert_eq!(
            from_flags(&a).unwrap(),
            json!({"blockIO": {"weight": 300}, "cpu": {"quota": -1, "shares": 512, "cpus": "0"}, "memory": {"limit": 67108864}, "pids": {"limit": 20}})
        );
        let bad = UpdateArgs { memory: Some("lots".into()), ..Default::default() };
        assert!(from_flags(&bad).unwrap_err().to_string().contains("--memory"));
    }
}
