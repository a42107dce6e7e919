use clap::Args;
use std::path::PathBuf;

/// runc's `update` flags. With `--resources`, the other flags are ignored (as in runc).
#[derive(Debug, Default, Args)]
pub struct UpdateArgs {
    /// JSON LinuxResources to apply, from a file or `-` for stdin
    #[arg(short = 'r', long)]
    pub resources: Option<PathBuf>,

    /// Block IO weight, 10-1000
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,

    /// CPU CFS period in microseconds
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,

    /// CPU CFS quota in microseconds per period (-1: no limit)
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,

    /// CPU CFS burst in microseconds
    #[arg(long = "cpu-burst")]
    pub cpu_burst: Option<u64>,

    /// CPU shares (relative weight)
    #[arg(long = "cpu-share", visible_alias = "cpu-shares")]
    pub cpu_share: Option<u64>,

    /// CPU realtime period (refused: cgroup v2 has no realtime limits)
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,

    /// CPU realtime runtime (refused: cgroup v2 has no realtime limits)
    #[arg(long = "cpu-rt-runtime", allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,

    /// SCHED_IDLE for the cgroup: 0 or 1
    #[arg(long = "cpu-idle")]
    pub cpu_idle: Option<i64>,

    /// CPUs to run on (cpuset), e.g. 0-1
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,

    /// Memory nodes (cpuset), e.g. 0
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,

    /// Memory limit in bytes (units k, m, g accepted; -1: no limit)
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,

    /// Memory reservation (memory.low), in bytes with optional unit
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,

    /// Memory plus swap, in bytes with optional unit (-1: unlimited swap)
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,

    /// Kernel memory limit (obsolete: ignored with a warning, as in runc)
    #[arg(long = "kernel-memory", hide = true)]
    pub kernel_memory: Option<String>,

    /// Kernel TCP memory limit (obsolete: ignored with a warning, as in runc)
    #[arg(long = "kernel-memory-tcp", hide = true)]
    pub kernel_memory_tcp: Option<String>,

    /// Maximum number of processes (-1: no limit)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,

    /// Intel RDT L3 cache schema (refused: not supported)
    #[arg(long = "l3-cache-schema")]
    pub l3_cache_schema: Option<String>,

    /// Intel RDT memory bandwidth schema (refused: not supported)
    #[arg(long = "mem-bw-schema")]
    pub mem_bw_schema: Option<String>,

    /// Container id
    pub id: String,
}
