use super::create::ID;
use super::parse::{Flag, Syntax, UsageError};
use std::ffi::OsString;

static SYNTAX: Syntax = Syntax {
    name: "events",
    about: "Print container stats and OOM events as JSON",
    flags: &[
        Flag::value(
            "interval",
            None,
            "DURATION",
            "Interval between stats events, a Go-style duration (5s, 500ms, 1m30s) [default: 5s]",
        ),
        Flag::switch("stats", None, "Print the container's stats once and exit"),
    ],
    positionals: &[ID],
    trailing: None,
};

#[derive(Debug)]
pub struct EventsArgs {
    pub interval: String,
    pub stats: bool,
    pub id: String,
}

impl EventsArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(EventsArgs {
            interval: m.string("interval")?.unwrap_or_else(|| "5s".into()),
            stats: m.switch("stats"),
            id: m.required(0, ID.0)?,
        })
    }
}
