use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Path to the bundle directory (holds config.json)
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,

    /// File to write the init's pid to
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,

    /// Unix socket that receives the pty master when process.terminal is true
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,

    /// Use chroot instead of pivot_root (for a ramfs root)
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,

    /// Do not create a new session keyring (accepted; scutum never creates one)
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,

    /// Pass N extra fds (3..3+N-1) to the container
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,

    /// Container id
    pub id: String,
}
