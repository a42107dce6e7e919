//! clap definitions only: the global flags, accepted before the subcommand exactly as runc
//! accepts them, and one file per subcommand's arguments.

mod check;
mod create;
mod delete;
mod events;
mod exec;
mod kill;
mod list;
mod ps;
mod run;
mod spec;
mod update;

pub use check::{CheckArgs, CheckFormat};
pub use create::CreateArgs;
pub use delete::DeleteArgs;
pub use events::EventsArgs;
pub use exec::ExecArgs;
pub use kill::KillArgs;
pub use list::{ListArgs, ListFormat};
pub use ps::{PsArgs, PsFormat};
pub use run::RunArgs;
pub use spec::SpecArgs;
pub use update::UpdateArgs;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "scutum", about = "A minimal, hardened OCI container runtime (runc-compatible)")]
#[command(disable_version_flag = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Print the version (three lines, like runc)
    #[arg(short = 'v', long = "version")]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Directory for container state (created 0700)
    #[arg(long, default_value = "/run/scutum")]
    pub root: PathBuf,

    /// Log file for the runtime (errors also go to stderr)
    #[arg(long)]
    pub log: Option<PathBuf>,

    /// Log format
    #[arg(long = "log-format", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Log debug messages
    #[arg(long)]
    pub debug: bool,

    /// Interpret cgroupsPath as systemd's slice:prefix:name (mapped on cgroupfs; systemd is not
    /// contacted)
    #[arg(long = "systemd-cgroup")]
    pub systemd_cgroup: bool,

    /// Rootless mode (accepted for compatibility: scutum decides from the config and its uid)
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "true")]
    pub rootless: Option<Rootless>,

    /// Host policy: a preset name (hardened, baseline, unconfined) or a policy file
    #[arg(long)]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Rootless {
    True,
    False,
    Auto,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a container: set everything up and wait for `start`
    Create(CreateArgs),
    /// Start a created container's user process
    Start(IdArg),
    /// Create and start a container, and wait for it unless --detach
    Run(RunArgs),
    /// Print a container's state as JSON
    State(IdArg),
    /// Run a new process inside a container
    Exec(Box<ExecArgs>),
    /// Send a signal to a container's init (or all its processes)
    Kill(KillArgs),
    /// Delete a stopped container (--force kills it first)
    Delete(DeleteArgs),
    /// List containers
    #[command(alias = "ls")]
    List(ListArgs),
    /// Write a default config.json
    Spec(SpecArgs),
    /// Freeze every process of a container (cgroup v2 freezer)
    Pause(IdArg),
    /// Thaw a paused container
    Resume(IdArg),
    /// List the processes of a container
    Ps(PsArgs),
    /// Print container stats and OOM events as JSON
    Events(EventsArgs),
    /// Change a running container's resource limits
    Update(Box<UpdateArgs>),
    /// Print the runtime-spec features JSON
    Features,
    /// Evaluate a bundle against the host policy without running it
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct IdArg {
    /// Container id
    pub id: String,
}
