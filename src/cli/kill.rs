use super::create::ID;
use super::parse::{Flag, Syntax, UsageError};
use std::ffi::OsString;

static SYNTAX: Syntax = Syntax {
    name: "kill",
    about: "Send a signal to a container's init (or all its processes)",
    flags: &[Flag::switch("all", Some('a'), "Signal every process of the container, not only its init")],
    positionals: &[ID, ("signal", false)],
    trailing: None,
};

#[derive(Debug)]
pub struct KillArgs {
    pub all: bool,
    pub id: String,
    /// Signal name (with or without SIG) or number; SIGTERM when not given.
    pub signal: String,
}

impl KillArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(KillArgs {
            all: m.switch("all"),
            id: m.required(0, ID.0)?,
            signal: m.positional(1, "signal")?.unwrap_or_else(|| "SIGTERM".into()),
        })
    }
}
