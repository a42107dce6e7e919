use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Directory to write config.json into
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,

    /// Write a config for a rootless container (user namespace mapping the caller's ids)
    #[arg(long)]
    pub rootless: bool,
}
