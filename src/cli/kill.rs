use clap::Args;

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal every process of the container, not only its init
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Container id
    pub id: String,

    /// Signal name (with or without SIG) or number
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}
