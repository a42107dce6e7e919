use super::parse::{value_enum, Flag, Syntax, UsageError};
use std::ffi::OsString;

static SYNTAX: Syntax = Syntax {
    name: "list",
    about: "List containers",
    flags: &[
        Flag::value("format", Some('f'), "table|json", "Output format [default: table]"),
        Flag::switch("quiet", Some('q'), "Print only container ids"),
    ],
    positionals: &[],
    trailing: None,
};

value_enum!(ListFormat { Table = "table", Json = "json" });

#[derive(Debug)]
pub struct ListArgs {
    pub format: ListFormat,
    pub quiet: bool,
}

impl ListArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(ListArgs { format: m.parsed("format")?.unwrap_or(ListFormat::Table), quiet: m.switch("quiet") })
    }
}
