use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// process.json describing the process (instead of args and flags)
    #[arg(short = 'p', long)]
    pub process: Option<PathBuf>,

    /// Return once the process has started
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// File to write the process's pid to
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,

    /// Unix socket that receives the pty master (with --tty)
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,

    /// Working directory inside the container
    #[arg(long)]
    pub cwd: Option<PathBuf>,

    /// Extra environment variables (NAME=value)
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,

    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    pub tty: bool,

    /// User to run as: uid[:gid]
    #[arg(short = 'u', long)]
    pub user: Option<String>,

    /// Additional group ids
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,

    /// Add a capability to the process (refused if the policy forbids it)
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,

    /// Set no_new_privileges for the process
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,

    /// AppArmor profile (not supported)
    #[arg(short = 'a', long)]
    pub apparmor: Option<String>,

    /// SELinux process label (not supported)
    #[arg(short = 'l', long = "process-label")]
    pub process_label: Option<String>,

    /// Pass N extra fds (3..3+N-1) to the process
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,

    /// Run in this sub-cgroup of the container's cgroup
    #[arg(long)]
    pub cgroup: Option<String>,

    /// Allow exec into a paused container
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,

    /// Container id
    pub id: String,

    /// Command and arguments (when no --process is given)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}
