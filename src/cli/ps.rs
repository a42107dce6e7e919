use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Output format: `table` is `ps` output for the container's processes, `json` an array of
    /// their pids
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: PsFormat,

    /// Container id
    pub id: String,

    /// Options for ps(1) with `--format table` (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PsFormat {
    Table,
    Json,
}
