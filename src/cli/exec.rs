use super::create::ID;
use super::parse::{Flag, Syntax, UsageError};
use std::ffi::OsString;
use std::path::PathBuf;

static SYNTAX: Syntax = Syntax {
    name: "exec",
    about: "Run a new process inside a container",
    flags: &[
        Flag::value(
            "process",
            Some('p'),
            "FILE",
            "process.json describing the process (instead of args and flags)",
        ),
        Flag::switch("detach", Some('d'), "Return once the process has started"),
        Flag::value("pid-file", None, "FILE", "File to write the process's pid to"),
        Flag::value(
            "console-socket",
            None,
            "SOCKET",
            "Unix socket that receives the pty master (with --tty)",
        ),
        Flag::value("cwd", None, "DIR", "Working directory inside the container"),
        Flag::value("env", Some('e'), "NAME=VALUE", "Extra environment variable (repeatable)"),
        Flag::switch("tty", Some('t'), "Allocate a pseudo-terminal"),
        Flag::value("user", Some('u'), "UID[:GID]", "User to run as"),
        Flag::value("additional-gids", Some('g'), "GID", "Additional group id (repeatable)"),
        Flag::value(
            "cap",
            Some('c'),
            "CAP",
            "Add a capability to the process (refused if the policy forbids it)",
        ),
        Flag::switch("no-new-privs", None, "Set no_new_privileges for the process"),
        Flag::value("apparmor", Some('a'), "PROFILE", "AppArmor profile (not supported)"),
        Flag::value("process-label", Some('l'), "LABEL", "SELinux process label (not supported)"),
        Flag::value("preserve-fds", None, "N", "Pass N extra fds (3..3+N-1) to the process [default: 0]"),
        Flag::value("cgroup", None, "PATH", "Run in this sub-cgroup of the container's cgroup"),
        Flag::switch("ignore-paused", None, "Allow exec into a paused container"),
    ],
    positionals: &[ID],
    trailing: Some("command"),
};

#[derive(Debug)]
pub struct ExecArgs {
    pub process: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<String>,
    pub tty: bool,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub cap: Vec<String>,
    pub no_new_privs: bool,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    pub preserve_fds: u32,
    pub cgroup: Option<String>,
    pub ignore_paused: bool,
    pub id: String,
    /// Command and arguments (when no --process is given).
    pub args: Vec<String>,
}

impl ExecArgs {
    pub fn parse(args: &[OsString]) -> Result<Self, UsageError> {
        let m = SYNTAX.parse(args)?;
        Ok(ExecArgs {
            process: m.path("process"),
            detach: m.switch("detach"),
            pid_file: m.path("pid-file"),
            console_socket: m.path("console-socket"),
            cwd: m.path("cwd"),
            env: m.strings("env")?,
            tty: m.switch("tty"),
            user: m.string("user")?,
            additional_gids: m.parsed_all("additional-gids")?,
            cap: m.strings("cap")?,
            no_new_privs: m.switch("no-new-privs"),
            apparmor: m.string("apparmor")?,
            process_label: m.string("process-label")?,
            preserve_fds: m.parsed("preserve-fds")?.unwrap_or(0),
            cgroup: m.string("cgroup")?,
            ignore_paused: m.switch("ignore-paused"),
            id: m.required(0, ID.0)?,
            args: m.trailing("the command")?,
        })
    }
}
