use super::create::{CREATE_FLAGS, ID};
use super::parse::{Flag, Syntax, UsageError};
use super::CreateArgs;
use std::ffi::OsString;

const C: [Flag; 6] = CREATE_FLAGS;

static SYNTAX: Syntax = Syntax {
    name: "run",
    about: "Create and start a container, and wait for it unless --detach",
    flags: &[
        C[0],
        C[1],
        C[2],
        C[3],
        C[4],
        C[5],
        Flag::switch("detach", Some('d'), "Return after starting instead of waiting for the container"),
        Flag::switch("keep", None, "Keep the container's state after it exits"),
    ],
    positionals: &[ID],
    trailing: None,
};

#[derive(Debug)]
pub struct RunArgs {
    pub create: CreateArgs,
    pub detach: bool,
    pub keep: bool,
}

impl RunArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(RunArgs {
            create: CreateArgs::from_matches(&m)?,
            detach: m.switch("detach"),
            keep: m.switch("keep"),
        })
    }
}
