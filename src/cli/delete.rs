use clap::Args;

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Kill the container if it is still running, then delete it
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Container id
    pub id: String,
}
