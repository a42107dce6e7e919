use super::parse::{Flag, Syntax, UsageError};
use std::ffi::OsString;
use std::path::PathBuf;

static SYNTAX: Syntax = Syntax {
    name: "spec",
    about: "Write a default config.json",
    flags: &[
        Flag::value("bundle", Some('b'), "DIR", "Directory to write config.json into [default: .]"),
        Flag::switch(
            "rootless",
            None,
            "Write a config for a rootless container (user namespace mapping the caller's ids)",
        ),
    ],
    positionals: &[],
    trailing: None,
};

#[derive(Debug)]
pub struct SpecArgs {
    pub bundle: PathBuf,
    pub rootless: bool,
}

impl SpecArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(SpecArgs {
            bundle: m.path("bundle").unwrap_or_else(|| PathBuf::from(".")),
            rootless: m.switch("rootless"),
        })
    }
}
