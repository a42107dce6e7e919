use super::CreateArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,

    /// Return after starting instead of waiting for the container
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Keep the container's state after it exits
    #[arg(long)]
    pub keep: bool,
}
