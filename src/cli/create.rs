use super::parse::{Flag, Matches, Syntax, UsageError};
use std::ffi::OsString;
use std::path::PathBuf;

/// create's flags, which `run` shares.
pub(super) const CREATE_FLAGS: [Flag; 6] = [
    Flag::value("bundle", Some('b'), "DIR", "Path to the bundle directory (holds config.json) [default: .]"),
    Flag::value("pid-file", None, "FILE", "File to write the init's pid to"),
    Flag::value(
        "console-socket",
        None,
        "SOCKET",
        "Unix socket that receives the pty master when process.terminal is true",
    ),
    Flag::switch("no-pivot", None, "Use chroot instead of pivot_root (for a ramfs root)"),
    Flag::switch(
        "no-new-keyring",
        None,
        "Do not create a new session keyring (accepted; scutum never creates one)",
    ),
    Flag::value("preserve-fds", None, "N", "Pass N extra fds (3..3+N-1) to the container [default: 0]"),
];

pub(super) const ID: (&str, bool) = ("container-id", true);

static SYNTAX: Syntax = Syntax {
    name: "create",
    about: "Create a container: set everything up and wait for `start`",
    flags: &CREATE_FLAGS,
    positionals: &[ID],
    trailing: None,
};

#[derive(Debug, Clone)]
pub struct CreateArgs {
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub id: String,
}

impl CreateArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        Self::from_matches(&SYNTAX.parse(args)?)
    }

    pub(super) fn from_matches(m: &Matches) -> Result<Self, UsageError> {
        Ok(CreateArgs {
            bundle: m.path("bundle").unwrap_or_else(|| PathBuf::from(".")),
            pid_file: m.path("pid-file"),
            console_socket: m.path("console-socket"),
            no_pivot: m.switch("no-pivot"),
            no_new_keyring: m.switch("no-new-keyring"),
            preserve_fds: m.parsed("preserve-fds")?.unwrap_or(0),
            id: m.required(0, ID.0)?,
        })
    }
}
