use super::create::ID;
use super::parse::{value_enum, Flag, Syntax, UsageError};
use std::ffi::OsString;

static SYNTAX: Syntax = Syntax {
    name: "ps",
    about: "List the processes of a container",
    flags: &[Flag::value(
        "format",
        Some('f'),
        "table|json",
        "`table`: ps(1) output for the container's processes; `json`: an array of their pids [default: table]",
    )],
    positionals: &[ID],
    trailing: Some("ps-options"),
};

value_enum!(PsFormat { Table = "table", Json = "json" });

#[derive(Debug)]
pub struct PsArgs {
    pub format: PsFormat,
    pub id: String,
    /// Options for ps(1) with `--format table` (default -ef).
    pub ps_args: Vec<String>,
}

impl PsArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(PsArgs {
            format: m.parsed("format")?.unwrap_or(PsFormat::Table),
            id: m.required(0, ID.0)?,
            ps_args: m.trailing("ps options")?,
        })
    }
}
