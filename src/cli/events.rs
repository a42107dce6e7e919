use clap::Args;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Interval between stats events, a Go-style duration (5s, 500ms, 1m30s)
    #[arg(long, default_value = "5s")]
    pub interval: String,

    /// Print the container's stats once and exit
    #[arg(long)]
    pub stats: bool,

    /// Container id
    pub id: String,
}
