use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: ListFormat,

    /// Print only container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}
