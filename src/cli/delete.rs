use super::create::ID;
use super::parse::{Flag, Syntax, UsageError};
use std::ffi::OsString;

static SYNTAX: Syntax = Syntax {
    name: "delete",
    about: "Delete a stopped container (--force kills it first)",
    flags: &[Flag::switch("force", Some('f'), "Kill the container if it is still running, then delete it")],
    positionals: &[ID],
    trailing: None,
};

#[derive(Debug)]
pub struct DeleteArgs {
    pub force: bool,
    pub id: String,
}

impl DeleteArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(DeleteArgs { force: m.switch("force"), id: m.required(0, ID.0)? })
    }
}
