use super::parse::{value_enum, Flag, Syntax, UsageError};
use std::ffi::OsString;
use std::path::PathBuf;

static SYNTAX: Syntax = Syntax {
    name: "check",
    about: "Evaluate a bundle against the host policy without running it",
    flags: &[
        Flag::value("bundle", Some('b'), "DIR", "Path to the bundle directory [default: .]"),
        Flag::value("policy", None, "NAME|FILE", "Policy to check against (overrides the global --policy)"),
        Flag::value("format", None, "text|json", "Output format [default: text]"),
    ],
    positionals: &[],
    trailing: None,
};

value_enum!(CheckFormat { Text = "text", Json = "json" });

#[derive(Debug)]
pub struct CheckArgs {
    pub bundle: PathBuf,
    pub policy: Option<String>,
    pub format: CheckFormat,
}

impl CheckArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(CheckArgs {
            bundle: m.path("bundle").unwrap_or_else(|| PathBuf::from(".")),
            policy: m.string("policy")?,
            format: m.parsed("format")?.unwrap_or(CheckFormat::Text),
        })
    }
}
