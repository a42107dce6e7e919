use super::create::ID;
use super::parse::{Flag, Syntax, UsageError};
use std::ffi::OsString;
use std::path::PathBuf;

static SYNTAX: Syntax = Syntax {
    name: "update",
    about: "Change a running container's resource limits (with --resources, the other flags are ignored, as in runc)",
    flags: &[
        Flag::value("resources", Some('r'), "FILE", "JSON LinuxResources to apply, from a file or `-` for stdin"),
        Flag::value("blkio-weight", None, "N", "Block IO weight, 10-1000"),
        Flag::value("cpu-period", None, "US", "CPU CFS period in microseconds"),
        Flag::value("cpu-quota", None, "US", "CPU CFS quota in microseconds per period (-1: no limit)"),
        Flag::value("cpu-burst", None, "US", "CPU CFS burst in microseconds"),
        Flag::value("cpu-share", None, "N", "CPU shares (relative weight)").aliases(&["cpu-shares"]),
        Flag::value("cpu-rt-period", None, "US", "CPU realtime period (refused: cgroup v2 has no realtime limits)"),
        Flag::value("cpu-rt-runtime", None, "US", "CPU realtime runtime (refused: cgroup v2 has no realtime limits)"),
        Flag::value("cpu-idle", None, "0|1", "SCHED_IDLE for the cgroup"),
        Flag::value("cpuset-cpus", None, "CPUS", "CPUs to run on (cpuset), e.g. 0-1"),
        Flag::value("cpuset-mems", None, "NODES", "Memory nodes (cpuset), e.g. 0"),
        Flag::value("memory", None, "BYTES", "Memory limit in bytes (units k, m, g accepted; -1: no limit)"),
        Flag::value("memory-reservation", None, "BYTES", "Memory reservation (memory.low), in bytes with optional unit"),
        Flag::value("memory-swap", None, "BYTES", "Memory plus swap, in bytes with optional unit (-1: unlimited swap)"),
        Flag::value("kernel-memory", None, "BYTES", "Obsolete: ignored with a warning, as in runc").hidden(),
        Flag::value("kernel-memory-tcp", None, "BYTES", "Obsolete: ignored with a warning, as in runc").hidden(),
        Flag::value("pids-limit", None, "N", "Maximum number of processes (-1: no limit)"),
        Flag::value("l3-cache-schema", None, "SCHEMA", "Intel RDT L3 cache schema (refused: not supported)"),
        Flag::value("mem-bw-schema", None, "SCHEMA", "Intel RDT memory bandwidth schema (refused: not supported)"),
    ],
    positionals: &[ID],
    trailing: None,
};

/// runc's `update` flags.
#[derive(Debug, Default)]
pub struct UpdateArgs {
    pub resources: Option<PathBuf>,
    pub blkio_weight: Option<u16>,
    pub cpu_period: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_burst: Option<u64>,
    pub cpu_share: Option<u64>,
    pub cpu_rt_period: Option<u64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpu_idle: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    pub memory_swap: Option<String>,
    pub kernel_memory: Option<String>,
    pub kernel_memory_tcp: Option<String>,
    pub pids_limit: Option<i64>,
    pub l3_cache_schema: Option<String>,
    pub mem_bw_schema: Option<String>,
    pub id: String,
}

impl UpdateArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(UpdateArgs {
            resources: m.path("resources"),
            blkio_weight: m.parsed("blkio-weight")?,
            cpu_period: m.parsed("cpu-period")?,
            cpu_quota: m.parsed("cpu-quota")?,
            cpu_burst: m.parsed("cpu-burst")?,
            cpu_share: m.parsed("cpu-share")?,
            cpu_rt_period: m.parsed("cpu-rt-period")?,
            cpu_rt_runtime: m.parsed("cpu-rt-runtime")?,
            cpu_idle: m.parsed("cpu-idle")?,
            cpuset_cpus: m.string("cpuset-cpus")?,
            cpuset_mems: m.string("cpuset-mems")?,
            memory: m.string("memory")?,
            memory_reservation: m.string("memory-reservation")?,
            memory_swap: m.string("memory-swap")?,
            kernel_memory: m.string("kernel-memory")?,
            kernel_memory_tcp: m.string("kernel-memory-tcp")?,
            pids_limit: m.parsed("pids-limit")?,
            l3_cache_schema: m.string("l3-cache-schema")?,
            mem_bw_schema: m.string("mem-bw-schema")?,
            id: m.required(0, ID.0)?,
        })
    }
}
