//! `linux.resources` to cgroup v2 file writes. Pure: every value is converted and checked here,
//! before any cgroup exists, so a bad config fails without side effects and the conversions test
//! without root. Each write carries the config field it comes from, for error messages.
//!
//! Conversions follow runc, so a config means the same under both:
//! - `cpu.shares` -> `cpu.weight` = 1 + ((shares - 2) * 9999) / 262142 (runc's linear map of
//!   [2, 262144] onto [1, 10000]; crun switched to a quadratic curve that keeps 1024 -> 100,
//!   scutum stays with runc's formula, under which the default 1024 shares is weight 39);
//! - `cpu.quota`/`cpu.period` -> `cpu.max` "<quota|max> <period>" (period defaults to 100000);
//! - `memory.swap` is memory+swap, as on cgroup v1: `memory.swap.max` = swap - limit;
//! - -1 means "max" (no limit) for memory, swap and pids;
//! - `blockIO.weight` (10-1000) -> `io.bfq.weight` when BFQ is there, else `io.weight` scaled to
//!   1-10000 as 1 + (weight - 10) * 9999 / 990.

use super::devices::{self, Rule};
use super::{CgroupError, Controller};
use oci_spec::runtime::{LinuxDevice, LinuxResources, LinuxThrottleDevice};
use std::collections::BTreeMap;

/// How a write treats a file the kernel does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The file must exist and take the value.
    Must,
    /// Skipped when the file does not exist (an optional companion file).
    IfExists,
    /// When the file does not exist, write this (file, value) instead.
    Else(String, String),
    /// Errors are ignored (written again later in the plan; see `cpu.max.burst`).
    BestEffort,
}

/// One value for one cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The config field, e.g. `linux.resources.memory.limit`.
    pub field: String,
    pub controller: Controller,
    pub file: String,
    pub value: String,
    pub mode: Mode,
}

impl Write {
    /// Whether the value lifts a limit rather than setting one ("max", or "max <period>" for
    /// cpu.max): nothing to enforce.
    pub fn sets_no_limit(&self) -> bool {
        self.value == "max" || (self.file == "cpu.max" && self.value.starts_with("max "))
    }
}

/// Everything `linux.resources` asks of the cgroup.
#[derive(Debug, Default)]
pub struct Plan {
    /// In the order they are applied.
    pub writes: Vec<Write>,
    /// The device rules in force, defaults included (`None`: devices are not managed, as for
    /// `update`, which never changes them, like runc).
    pub devices: Option<Vec<Rule>>,
    /// Whether the config has device rules of its own (then failing to enforce them is fatal).
    pub devices_requested: bool,
    /// `memory.checkBeforeUpdate`: the new limit, to compare with `memory.current` first.
    pub check_memory_before: Option<i64>,
    /// Fields accepted but with nothing to do on cgroup v2, for a debug log.
    pub ignored: Vec<String>,
}

impl Plan {
    /// The controllers the writes need, each with the first field that needs it.
    pub fn needs(&self) -> BTreeMap<Controller, &str> {
        let mut m = BTreeMap::new();
        for w in self.writes.iter().filter(|w| w.controller != Controller::Core) {
            m.entry(w.controller).or_insert(w.field.as_str());
        }
        m
    }

    /// Whether anything would be enforced at all.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && !self.devices_requested
    }

    fn push(
        &mut self,
        field: impl Into<String>,
        controller: Controller,
        file: &str,
        value: String,
        mode: Mode,
    ) {
        self.writes.push(Write { field: field.into(), controller, file: file.into(), value, mode });
    }
}

const R: &str = "linux.resources";

/// Plans `resources` (and, when `devices` is `Some`, the device filter, which also allows
/// mknod of the config's `linux.devices` so the init can create them).
pub fn plan(
    resources: Option<&LinuxResources>,
    devices: Option<&[LinuxDevice]>,
) -> Result<Plan, CgroupError> {
    let mut p = Plan::default();
    if let Some(nodes) = devices {
        let rules = resources.and_then(|r| r.devices().as_deref()).unwrap_or_default();
        p.devices_requested = !rules.is_empty();
        p.devices = Some(devices::rules(rules, nodes)?);
    }
    let Some(r) = resources else { return Ok(p) };
    pids(&mut p, r)?;
    memory(&mut p, r)?;
    io(&mut p, r)?;
    cpu(&mut p, r)?;
    hugetlb(&mut p, r)?;
    rdma(&mut p, r)?;
    if r.network().is_some() {
        return Err(CgroupError::config(
            format!("{R}.network"),
            "classID and priorities are cgroup v1 (net_cls, net_prio); cgroup v2 has no such controller",
        ));
    }
    unified(&mut p, r)?;
    Ok(p)
}

/// cpu.shares to cpu.weight, runc's formula (see the module doc).
pub fn shares_to_weight(shares: u64) -> Result<u64, CgroupError> {
    if !(2..=262_144).contains(&shares) {
        return Err(CgroupError::config(
            format!("{R}.cpu.shares"),
            format!("{shares} is outside 2-262144 (0 leaves it unset)"),
        ));
    }
    Ok(1 + ((shares - 2) * 9999) / 262_142)
}

/// memory.swap (memory+swap, v1 style) to memory.swap.max, with runc's rules. `None`: leave
/// the file alone.
pub fn swap_max(swap: Option<i64>, limit: Option<i64>) -> Result<Option<String>, CgroupError> {
    let field = format!("{R}.memory.swap");
    let (swap, limit) = (swap.unwrap_or(0), limit.unwrap_or(0));
    // A memory limit of -1 with swap unset means "both unlimited", as on v1.
    if limit == -1 && swap == 0 {
        return Ok(Some("max".into()));
    }
    match swap {
        0 => return Ok(None),
        -1 => return Ok(Some("max".into())),
        s if s < -1 => {
            return Err(CgroupError::config(field, format!("{s} is not a size (-1 means no limit)")))
        }
        _ => {}
    }
    if limit == 0 || limit == -1 {
        return Err(CgroupError::config(
            field,
            "a swap limit needs a memory limit: swap counts memory+swap, as on cgroup v1",
        ));
    }
    if swap < limit {
        return Err(CgroupError::config(
            field,
            format!("{swap} is below the memory limit {limit}: swap counts memory+swap, as on cgroup v1"),
        ));
    }
    Ok(Some((swap - limit).to_string()))
}

/// A memory-style value: 0 unset, -1 "max", else the number.
fn max_value(field: &str, v: Option<i64>) -> Result<Option<String>, CgroupError> {
    match v {
        None | Some(0) => Ok(None),
        Some(-1) => Ok(Some("max".into())),
        Some(v) if v < -1 => {
            Err(CgroupError::config(field, format!("{v} is not a size (-1 means no limit)")))
        }
        Some(v) => Ok(Some(v.to_string())),
    }
}

fn pids(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    let Some(pids) = r.pids() else { return Ok(()) };
    let field = format!("{R}.pids.limit");
    let value = match pids.limit() {
        -1 => "max".to_string(),
        0 => {
            return Err(CgroupError::config(
                field,
                "0 is ambiguous (runtimes read it as \"no limit\" or as \"no process at all\"): use -1 for no limit or a positive number",
            ))
        }
        n if n < -1 => return Err(CgroupError::config(field, format!("{n} is not a number of processes"))),
        n => n.to_string(),
    };
    p.push(field, Controller::Pids, "pids.max", value, Mode::Must);
    Ok(())
}

fn memory(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    let Some(m) = r.memory() else { return Ok(()) };
    if m.disable_oom_killer() == Some(true) {
        return Err(CgroupError::config(
            format!("{R}.memory.disableOOMKiller"),
            "cgroup v2 has no way to disable the OOM killer",
        ));
    }
    if m.swappiness().is_some() {
        return Err(CgroupError::config(
            format!("{R}.memory.swappiness"),
            "cgroup v2 has no per-cgroup swappiness",
        ));
    }
    for (name, set) in [("kernel", m.kernel().is_some()), ("kernelTCP", m.kernel_tcp().is_some())] {
        if set {
            p.ignored.push(format!("{R}.memory.{name} (kernel memory is part of memory.max on cgroup v2)"));
        }
    }
    if let Some(v) = swap_max(m.swap(), m.limit())? {
        // An unlimited swap needs no swap accounting; a limit does.
        let mode = if v == "max" { Mode::IfExists } else { Mode::Must };
        p.push(format!("{R}.memory.swap"), Controller::Memory, "memory.swap.max", v, mode);
    }
    if let Some(v) = max_value(&format!("{R}.memory.limit"), m.limit())? {
        p.push(format!("{R}.memory.limit"), Controller::Memory, "memory.max", v, Mode::Must);
    }
    if let Some(v) = max_value(&format!("{R}.memory.reservation"), m.reservation())? {
        p.push(format!("{R}.memory.reservation"), Controller::Memory, "memory.low", v, Mode::Must);
    }
    if m.check_before_update() == Some(true) {
        p.check_memory_before = m.limit().filter(|&l| l > 0);
    }
    Ok(())
}

fn devnum(field: &str, major: i64, minor: i64) -> Result<String, CgroupError> {
    if major < 0 || minor < 0 || major > u32::MAX as i64 || minor > u32::MAX as i64 {
        return Err(CgroupError::config(field, format!("{major}:{minor} is not a device number")));
    }
    Ok(format!("{major}:{minor}"))
}

/// blkio weight (10-1000) to io.weight (1-10000), runc's scaling.
pub fn blkio_to_io_weight(w: u16) -> u64 {
    1 + (w as u64 - 10) * 9999 / 990
}

fn io(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    let Some(b) = r.block_io() else { return Ok(()) };
    let check_weight = |field: &str, w: u16| {
        if (10..=1000).contains(&w) {
            Ok(w)
        } else {
            Err(CgroupError::config(field, format!("{w} is outside 10-1000")))
        }
    };
    if b.leaf_weight().is_some_and(|w| w != 0) {
        return Err(CgroupError::config(format!("{R}.blockIO.leafWeight"), "cgroup v2 has no leaf weight"));
    }
    if let Some(w) = b.weight().filter(|&w| w != 0) {
        let field = format!("{R}.blockIO.weight");
        let w = check_weight(&field, w)?;
        let fallback = Mode::Else("io.weight".into(), blkio_to_io_weight(w).to_string());
        p.push(field, Controller::Io, "io.bfq.weight", w.to_string(), fallback);
    }
    for (i, d) in b.weight_device().iter().flatten().enumerate() {
        let field = format!("{R}.blockIO.weightDevice[{i}]");
        if d.leaf_weight().is_some_and(|w| w != 0) {
            return Err(CgroupError::config(format!("{field}.leafWeight"), "cgroup v2 has no leaf weight"));
        }
        let Some(w) = d.weight() else { continue };
        let w = check_weight(&format!("{field}.weight"), w)?;
        let dev = devnum(&field, d.major(), d.minor())?;
        let fallback = Mode::Else("io.weight".into(), format!("{dev} {}", blkio_to_io_weight(w)));
        p.push(field, Controller::Io, "io.bfq.weight", format!("{dev} {w}"), fallback);
    }
    let lists: [(&str, &str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
        ("throttleReadBpsDevice", "rbps", b.throttle_read_bps_device()),
        ("throttleWriteBpsDevice", "wbps", b.throttle_write_bps_device()),
        ("throttleReadIOPSDevice", "riops", b.throttle_read_iops_device()),
        ("throttleWriteIOPSDevice", "wiops", b.throttle_write_iops_device()),
    ];
    for (name, key, list) in lists {
        for (i, d) in list.iter().flatten().enumerate() {
            let field = format!("{R}.blockIO.{name}[{i}]");
            let dev = devnum(&field, d.major(), d.minor())?;
            // 0 means "no limit", as in Docker.
            let rate = if d.rate() == 0 { "max".to_string() } else { d.rate().to_string() };
            p.push(field, Controller::Io, "io.max", format!("{dev} {key}={rate}"), Mode::Must);
        }
    }
    Ok(())
}

fn cpu(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    let Some(c) = r.cpu() else { return Ok(()) };
    for (name, set) in [
        ("realtimeRuntime", c.realtime_runtime().is_some_and(|v| v != 0)),
        ("realtimePeriod", c.realtime_period().is_some_and(|v| v != 0)),
    ] {
        if set {
            return Err(CgroupError::config(
                format!("{R}.cpu.{name}"),
                "realtime CPU limits (cpu.rt_*) do not exist on cgroup v2",
            ));
        }
    }
    if let Some(s) = c.shares().filter(|&s| s != 0) {
        p.push(
            format!("{R}.cpu.shares"),
            Controller::Cpu,
            "cpu.weight",
            shares_to_weight(s)?.to_string(),
            Mode::Must,
        );
    }
    let quota = c.quota().filter(|&q| q != 0);
    let period = c.period().filter(|&q| q != 0);
    let max = match (quota, period) {
        (None, None) => None,
        (Some(q), _) if q < -1 => {
            return Err(CgroupError::config(
                format!("{R}.cpu.quota"),
                format!("{q} is not a quota (-1 means no limit)"),
            ))
        }
        (q, per) => {
            let q = q.filter(|&q| q > 0).map_or("max".to_string(), |q| q.to_string());
            Some(format!("{q} {}", per.unwrap_or(100_000)))
        }
    };
    let field = if quota.is_some() { "quota" } else { "period" };
    match (max, c.burst()) {
        (Some(max), Some(b)) => {
            // The kernel wants burst <= quota at every step: lowering both works burst first,
            // raising both quota first. runc writes burst, cpu.max, burst again; so do we.
            p.push(
                format!("{R}.cpu.burst"),
                Controller::Cpu,
                "cpu.max.burst",
                b.to_string(),
                Mode::BestEffort,
            );
            p.push(format!("{R}.cpu.{field}"), Controller::Cpu, "cpu.max", max, Mode::Must);
            p.push(format!("{R}.cpu.burst"), Controller::Cpu, "cpu.max.burst", b.to_string(), Mode::Must);
        }
        (Some(max), None) => p.push(format!("{R}.cpu.{field}"), Controller::Cpu, "cpu.max", max, Mode::Must),
        (None, Some(b)) => {
            p.push(format!("{R}.cpu.burst"), Controller::Cpu, "cpu.max.burst", b.to_string(), Mode::Must)
        }
        (None, None) => {}
    }
    if let Some(idle) = c.idle() {
        p.push(format!("{R}.cpu.idle"), Controller::Cpu, "cpu.idle", idle.to_string(), Mode::Must);
    }
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        p.push(format!("{R}.cpu.cpus"), Controller::Cpuset, "cpuset.cpus", cpus.into(), Mode::Must);
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        p.push(format!("{R}.cpu.mems"), Controller::Cpuset, "cpuset.mems", mems.into(), Mode::Must);
    }
    Ok(())
}

fn hugetlb(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let field = format!("{R}.hugepageLimits[{i}]");
        let size = h.page_size();
        // It becomes part of a file name: digits and a unit only ("2MB", "1GB").
        let ok = size.len() > 2
            && size.ends_with('B')
            && size[..size.len() - 2].bytes().all(|b| b.is_ascii_digit())
            && matches!(size.as_bytes()[size.len() - 2], b'K' | b'M' | b'G');
        if !ok {
            return Err(CgroupError::config(
                format!("{field}.pageSize"),
                format!("{size:?} is not a page size like 2MB"),
            ));
        }
        let limit = max_value(&format!("{field}.limit"), Some(h.limit()))?.unwrap_or_else(|| "0".into());
        p.push(field.clone(), Controller::Hugetlb, &format!("hugetlb.{size}.max"), limit.clone(), Mode::Must);
        p.push(field, Controller::Hugetlb, &format!("hugetlb.{size}.rsvd.max"), limit, Mode::IfExists);
    }
    Ok(())
}

fn rdma(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    let Some(map) = r.rdma() else { return Ok(()) };
    let mut devs: Vec<_> = map.iter().collect();
    devs.sort_by(|a, b| a.0.cmp(b.0));
    for (dev, l) in devs {
        let field = format!("{R}.rdma.{dev}");
        if dev.is_empty() || dev.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(CgroupError::config(field, "is not a device name"));
        }
        let mut v = dev.clone();
        if let Some(h) = l.hca_handles() {
            v.push_str(&format!(" hca_handle={h}"));
        }
        if let Some(o) = l.hca_objects() {
            v.push_str(&format!(" hca_object={o}"));
        }
        if v == *dev {
            return Err(CgroupError::config(field, "sets neither hcaHandles nor hcaObjects"));
        }
        p.push(field, Controller::Rdma, "rdma.max", v, Mode::Must);
    }
    Ok(())
}

/// `cgroup.*` keys `unified` may set; the rest of that namespace belongs to the runtime
/// (cgroup.procs, cgroup.subtree_control, cgroup.type, cgroup.freeze, cgroup.kill, ...).
const UNIFIED_CGROUP_KEYS: [&str; 2] = ["cgroup.max.descendants", "cgroup.max.depth"];

fn unified(p: &mut Plan, r: &LinuxResources) -> Result<(), CgroupError> {
    let Some(map) = r.unified() else { return Ok(()) };
    let mut keys: Vec<_> = map.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in keys {
        let field = format!("{R}.unified.{key}");
        let (prefix, rest) = key.split_once('.').unwrap_or((key.as_str(), ""));
        let name_ok =
            !rest.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
        if !name_ok {
            return Err(CgroupError::config(field, "is not a cgroup file name like memory.high"));
        }
        let controller = if prefix == "cgroup" {
            if !UNIFIED_CGROUP_KEYS.contains(&key.as_str()) {
                return Err(CgroupError::config(
                    field,
                    format!(
                        "only {} may be set; cgroup.procs, cgroup.subtree_control, cgroup.type, cgroup.freeze and cgroup.kill are the runtime's",
                        UNIFIED_CGROUP_KEYS.join(" and ")
                    ),
                ));
            }
            Controller::Core
        } else {
            Controller::from_name(prefix)
                .ok_or_else(|| CgroupError::config(&field, format!("unknown controller {prefix:?}")))?
        };
        p.push(field, controller, key, value.clone(), Mode::Must);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: serde_json::Value) -> LinuxResources {
        serde_json::from_value(v).unwrap()
    }

    fn writes(v: serde_json::Value) -> Vec<(String, String)> {
        plan(Some(&res(v)), None).unwrap().writes.into_iter().map(|w| (w.file, w.value)).collect()
    }

    fn refused(v: serde_json::Value) -> String {
        plan(Some(&res(v)), None).unwrap_err().to_string()
    }

    fn pair(f: &str, v: &str) -> (String, String) {
        (f.to_string(), v.to_string())
    }

    #[test]
    fn shares_map_to_weight_like_runc() {
        assert_eq!(shares_to_weight(2).unwrap(), 1);
        assert_eq!(shares_to_weight(1024).unwrap(), 39);
        assert_eq!(shares_to_weight(262_144).unwrap(), 10_000);
        assert_eq!(shares_to_weight(512).unwrap(), 20);
        assert!(shares_to_weight(1).unwrap_err().to_string().contains("linux.resources.cpu.shares"));
        assert!(shares_to_weight(262_145).is_err());
    }

    #[test]
    fn swap_counts_memory_plus_swap_like_runc() {
        assert_eq!(swap_max(Some(300), Some(100)).unwrap().as_deref(), Some("200"));
        assert_eq!(swap_max(Some(100), Some(100)).unwrap().as_deref(), Some("0"));
        assert_eq!(swap_max(Some(-1), Some(100)).unwrap().as_deref(), Some("max"));
        assert_eq!(swap_max(None, Some(-1)).unwrap().as_deref(), Some("max"));
        assert_eq!(swap_max(None, Some(100)).unwrap(), None);
        assert!(swap_max(Some(50), Some(100)).unwrap_err().to_string().contains("below the memory limit"));
        assert!(swap_max(Some(50), None).unwrap_err().to_string().contains("needs a memory limit"));
        assert!(swap_max(Some(50), Some(-1)).is_err());
    }

    #[test]
    fn memory_fields_become_max_low_and_swap_max() {
        let w = writes(json!({"memory": {"limit": 1048576, "reservation": -1, "swap": 2097152}}));
        assert_eq!(
            w,
            vec![
                pair("memory.swap.max", "1048576"),
                pair("memory.max", "1048576"),
                pair("memory.low", "max")
            ]
        );
        assert_eq!(
            writes(json!({"memory": {"limit": -1}})),
            vec![pair("memory.swap.max", "max"), pair("memory.max", "max")]
        );
        let p = plan(Some(&res(json!({"memory": {"limit": 5, "kernel": 1, "kernelTCP": 2}}))), None).unwrap();
        assert_eq!(p.ignored.len(), 2);
        assert!(refused(json!({"memory": {"disableOOMKiller": true}})).contains("disableOOMKiller"));
        assert!(refused(json!({"memory": {"swappiness": 10}})).contains("swappiness"));
        assert!(refused(json!({"memory": {"limit": -2}})).contains("linux.resources.memory.limit"));
    }

    #[test]
    fn cpu_fields_become_weight_max_burst_idle_and_cpuset() {
        assert_eq!(writes(json!({"cpu": {"quota": 20000}})), vec![pair("cpu.max", "20000 100000")]);
        assert_eq!(
            writes(json!({"cpu": {"quota": -1, "period": 50000}})),
            vec![pair("cpu.max", "max 50000")]
        );
        assert_eq!(writes(json!({"cpu": {"period": 50000}})), vec![pair("cpu.max", "max 50000")]);
        assert_eq!(
            writes(
                json!({"cpu": {"shares": 1024, "quota": 1000, "burst": 500, "idle": 1, "cpus": "0", "mems": "0"}})
            ),
            vec![
                pair("cpu.weight", "39"),
                pair("cpu.max.burst", "500"),
                pair("cpu.max", "1000 100000"),
                pair("cpu.max.burst", "500"),
                pair("cpu.idle", "1"),
                pair("cpuset.cpus", "0"),
                pair("cpuset.mems", "0"),
            ]
        );
        assert!(writes(json!({"cpu": {"shares": 0, "realtimeRuntime": 0}})).is_empty());
        assert!(refused(json!({"cpu": {"realtimeRuntime": 950000}}))
            .contains("linux.resources.cpu.realtimeRuntime"));
        assert!(refused(json!({"cpu": {"realtimePeriod": 1000000}})).contains("realtime"));
    }

    #[test]
    fn pids_take_positive_numbers_and_minus_one_and_refuse_zero() {
        assert_eq!(writes(json!({"pids": {"limit": 10}})), vec![pair("pids.max", "10")]);
        assert_eq!(writes(json!({"pids": {"limit": -1}})), vec![pair("pids.max", "max")]);
        assert!(refused(json!({"pids": {"limit": 0}})).contains("ambiguous"));
        assert!(refused(json!({"pids": {"limit": -5}})).contains("linux.resources.pids.limit"));
    }

    #[test]
    fn block_io_becomes_weights_and_io_max_lines() {
        let p = plan(
            Some(&res(json!({"blockIO": {
                "weight": 500,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 10}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 254, "minor": 16, "rate": 0}]
            }}))),
            None,
        )
        .unwrap();
        let w: Vec<_> = p.writes.iter().map(|w| (w.file.as_str(), w.value.as_str(), &w.mode)).collect();
        assert_eq!(w[0], ("io.bfq.weight", "500", &Mode::Else("io.weight".into(), "4950".into())));
        assert_eq!(w[1], ("io.bfq.weight", "8:0 10", &Mode::Else("io.weight".into(), "8:0 1".into())));
        assert_eq!(w[2], ("io.max", "8:0 rbps=1048576", &Mode::Must));
        assert_eq!(w[3], ("io.max", "254:16 wiops=max", &Mode::Must));
        assert_eq!(p.writes[2].field, "linux.resources.blockIO.throttleReadBpsDevice[0]");
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
        assert!(refused(json!({"blockIO": {"weight": 5}})).contains("10-1000"));
        assert!(refused(json!({"blockIO": {"leafWeight": 50}})).contains("leaf weight"));
        assert!(refused(
            json!({"blockIO": {"throttleReadBpsDevice": [{"major": -1, "minor": 0, "rate": 1}]}})
        )
        .contains("throttleReadBpsDevice[0]"));
    }

    #[test]
    fn hugetlb_rdma_and_network() {
        assert_eq!(
            writes(json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})),
            vec![pair("hugetlb.2MB.max", "4194304"), pair("hugetlb.2MB.rsvd.max", "4194304")]
        );
        assert!(refused(json!({"hugepageLimits": [{"pageSize": "../2MB", "limit": 1}]})).contains("pageSize"));
        assert_eq!(
            writes(json!({"rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}})),
            vec![pair("rdma.max", "mlx5_1 hca_handle=3 hca_object=10000")]
        );
        assert!(refused(json!({"rdma": {"mlx5_1": {}}})).contains("neither"));
        assert!(refused(json!({"network": {"classID": 1}})).contains("net_cls"));
    }

    #[test]
    fn unified_keys_are_written_last_and_validated() {
        let p = plan(
            Some(&res(json!({"unified": {"memory.high": "1M", "pids.max": "5"}, "pids": {"limit": 9}}))),
            None,
        )
        .unwrap();
        let files: Vec<&str> = p.writes.iter().map(|w| w.file.as_str()).collect();
        assert_eq!(files, ["pids.max", "memory.high", "pids.max"]);
        assert_eq!(p.needs().keys().copied().collect::<Vec<_>>(), [Controller::Memory, Controller::Pids]);
        assert!(writes(json!({"unified": {"cgroup.max.depth": "2"}})).len() == 1);
        for key in ["cgroup.procs", "cgroup.subtree_control", "cgroup.type", "cgroup.kill", "cgroup.freeze"] {
            assert!(refused(json!({"unified": {key: "1"}})).contains("the runtime's"), "{key}");
        }
        assert!(refused(json!({"unified": {"foo.bar": "1"}})).contains("unknown controller \"foo\""));
        assert!(refused(json!({"unified": {"memory/../x": "1"}})).contains("not a cgroup file name"));
        assert!(refused(json!({"unified": {"memory": "1"}})).contains("not a cgroup file name"));
    }

    #[test]
    fn an_empty_plan_enforces_nothing() {
        assert!(plan(None, None).unwrap().is_empty());
        assert!(plan(Some(&res(json!({}))), Some(&[])).unwrap().is_empty());
        let p = plan(Some(&res(json!({"devices": [{"allow": false, "access": "rwm"}]}))), Some(&[])).unwrap();
        assert!(!p.is_empty() && p.needs().is_empty());
    }
}
