//! The command line: the global flags, accepted before the subcommand exactly as runc accepts
//! them, and one file per subcommand's arguments, parsed by the table-driven parser in parse.rs.

mod check;
mod create;
mod delete;
mod events;
mod exec;
mod kill;
mod list;
mod parse;
mod ps;
mod run;
mod spec;
mod update;

pub use check::{CheckArgs, CheckFormat};
pub use create::CreateArgs;
pub use delete::DeleteArgs;
pub use events::EventsArgs;
pub use exec::ExecArgs;
pub use kill::KillArgs;
pub use list::{ListArgs, ListFormat};
pub use parse::UsageError;
pub use ps::{PsArgs, PsFormat};
pub use run::RunArgs;
pub use spec::SpecArgs;
pub use update::UpdateArgs;

use parse::{value_enum, Flag, Syntax};
use std::ffi::OsString;
use std::path::PathBuf;

static GLOBAL: Syntax = Syntax {
    name: "",
    about: "A minimal, hardened OCI container runtime (runc-compatible)

Commands:
  create   Create a container: set everything up and wait for `start`
  start    Start a created container's user process
  run      Create and start a container, and wait for it unless --detach
  state    Print a container's state as JSON
  exec     Run a new process inside a container
  kill     Send a signal to a container's init (or all its processes)
  delete   Delete a stopped container (--force kills it first)
  list     List containers (alias: ls)
  spec     Write a default config.json
  pause    Freeze every process of a container (cgroup v2 freezer)
  resume   Thaw a paused container
  ps       List the processes of a container
  events   Print container stats and OOM events as JSON
  update   Change a running container's resource limits
  features Print the runtime-spec features JSON
  check    Evaluate a bundle against the host policy without running it
  help     Print this help, or a command's (`scutum help create`)",
    flags: &[
        Flag::value("root", None, "DIR", "Directory for container state (created 0700) [default: /run/scutum]"),
        Flag::value("log", None, "FILE", "Log file for the runtime (errors also go to stderr)"),
        Flag::value("log-format", None, "text|json", "Log format [default: text]"),
        Flag::switch("debug", None, "Log debug messages"),
        Flag::switch(
            "systemd-cgroup",
            None,
            "Interpret cgroupsPath as systemd's slice:prefix:name (mapped on cgroupfs; systemd is not contacted)",
        ),
        Flag::value(
            "rootless",
            None,
            "true|false|auto",
            "Rootless mode (accepted for compatibility: scutum decides from the config and its uid)",
        )
        .bare(&["true", "false", "auto"], "true"),
        Flag::value("policy", None, "NAME|FILE", "Host policy: a preset name (hardened, baseline, unconfined) or a policy file"),
        Flag::switch("version", Some('v'), "Print the version (three lines, like runc)"),
    ],
    positionals: &[("command", false)],
    trailing: Some("ARGS"),
};

#[derive(Debug)]
pub struct Cli {
    pub global: GlobalArgs,
    /// `--version`: print the version and do nothing else.
    pub version: bool,
    pub command: Option<Command>,
}

#[derive(Debug, Clone)]
pub struct GlobalArgs {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub log_format: LogFormat,
    pub debug: bool,
    pub systemd_cgroup: bool,
    pub rootless: Option<Rootless>,
    pub policy: Option<String>,
}

value_enum!(LogFormat { Text = "text", Json = "json" });
value_enum!(Rootless { True = "true", False = "false", Auto = "auto" });

#[derive(Debug)]
pub enum Command {
    Create(CreateArgs),
    Start(IdArg),
    Run(RunArgs),
    State(IdArg),
    Exec(Box<ExecArgs>),
    Kill(KillArgs),
    Delete(DeleteArgs),
    List(ListArgs),
    Spec(SpecArgs),
    Pause(IdArg),
    Resume(IdArg),
    Ps(PsArgs),
    Events(EventsArgs),
    Update(Box<UpdateArgs>),
    Features,
    Check(CheckArgs),
}

#[derive(Debug)]
pub struct IdArg {
    pub id: String,
}

/// The commands whose only argument is the container id.
const fn id_command(name: &'static str, about: &'static str) -> Syntax {
    Syntax { name, about, flags: &[], positionals: &[create::ID], trailing: None }
}
static START: Syntax = id_command("start", "Start a created container's user process");
static STATE: Syntax = id_command("state", "Print a container's state as JSON");
static PAUSE: Syntax = id_command("pause", "Freeze every process of a container (cgroup v2 freezer)");
static RESUME: Syntax = id_command("resume", "Thaw a paused container");
static FEATURES: Syntax = Syntax {
    name: "features",
    about: "Print the runtime-spec features JSON",
    flags: &[],
    positionals: &[],
    trailing: None,
};

impl IdArg {
    fn parse(syntax: &'static Syntax, args: &[OsString]) -> Result<Self, UsageError> {
        Ok(IdArg { id: syntax.parse(args)?.required(0, create::ID.0)? })
    }
}

impl Cli {
    /// Parses the arguments after the program name.
    pub fn parse(args: &[OsString]) -> Result<Cli, UsageError> {
        let m = GLOBAL.parse(args)?;
        let global = GlobalArgs {
            root: m.path("root").unwrap_or_else(|| PathBuf::from("/run/scutum")),
            log: m.path("log"),
            log_format: m.parsed("log-format")?.unwrap_or(LogFormat::Text),
            debug: m.switch("debug"),
            systemd_cgroup: m.switch("systemd-cgroup"),
            rootless: m.parsed("rootless")?,
            policy: m.string("policy")?,
        };
        let version = m.switch("version");
        let command = match m.positional_os(0) {
            Some(name) if !version => Some(command(name, m.trailing_os())?),
            _ => None,
        };
        Ok(Cli { global, version, command })
    }
}

fn command(name: &OsString, args: &[OsString]) -> Result<Command, UsageError> {
    let name = name.to_str().ok_or_else(|| UsageError::UnknownCommand(name.to_string_lossy().into()))?;
    Ok(match name {
        "create" => Command::Create(CreateArgs::parse(args)?),
        "start" => Command::Start(IdArg::parse(&START, args)?),
        "run" => Command::Run(RunArgs::parse(args)?),
        "state" => Command::State(IdArg::parse(&STATE, args)?),
        "exec" => Command::Exec(Box::new(ExecArgs::parse(args)?)),
        "kill" => Command::Kill(KillArgs::parse(args)?),
        "delete" => Command::Delete(DeleteArgs::parse(args)?),
        "list" | "ls" => Command::List(ListArgs::parse(args)?),
        "spec" => Command::Spec(SpecArgs::parse(args)?),
        "pause" => Command::Pause(IdArg::parse(&PAUSE, args)?),
        "resume" => Command::Resume(IdArg::parse(&RESUME, args)?),
        "ps" => Command::Ps(PsArgs::parse(args)?),
        "events" => Command::Events(EventsArgs::parse(args)?),
        "update" => Command::Update(Box::new(UpdateArgs::parse(args)?)),
        "features" => {
            FEATURES.parse(args)?;
            Command::Features
        }
        "check" => Command::Check(CheckArgs::parse(args)?),
        "help" => {
            return match args.first() {
                // Every command answers --help with UsageError::Help (or names an unknown one).
                Some(cmd) if cmd != "help" => Err(command(cmd, &["--help".into()])
                    .err()
                    .unwrap_or_else(|| UsageError::Help(GLOBAL.help()))),
                _ => Err(UsageError::Help(GLOBAL.help())),
            };
        }
        other => return Err(UsageError::UnknownCommand(other.into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Result<Cli, UsageError> {
        Cli::parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn global_flags_come_before_the_command_as_containerd_passes_them() {
        let c = cli(&[
            "--root",
            "/r",
            "--log",
            "/l",
            "--log-format",
            "json",
            "--systemd-cgroup",
            "delete",
            "--force",
            "x",
        ])
        .unwrap();
        assert_eq!(c.global.root, PathBuf::from("/r"));
        assert_eq!(c.global.log_format, LogFormat::Json);
        assert!(c.global.systemd_cgroup);
        assert!(matches!(c.command, Some(Command::Delete(DeleteArgs { force: true, ref id })) if id == "x"));
        // A command's own flags are not global ones.
        assert!(matches!(cli(&["create", "--root", "/r", "x"]), Err(UsageError::UnknownFlag { .. })));
    }

    #[test]
    fn rootless_stands_alone_or_takes_a_value() {
        assert_eq!(cli(&["--rootless", "state", "x"]).unwrap().global.rootless, Some(Rootless::True));
        assert_eq!(
            cli(&["--rootless", "false", "state", "x"]).unwrap().global.rootless,
            Some(Rootless::False)
        );
        assert_eq!(cli(&["--rootless=auto", "state", "x"]).unwrap().global.rootless, Some(Rootless::Auto));
        assert!(cli(&["--rootless=maybe", "state", "x"]).is_err());
    }

    #[test]
    fn run_takes_create_flags_and_kill_defaults_to_sigterm() {
        let c =
            cli(&["run", "-d", "--bundle", "/b", "--pid-file", "/p", "--preserve-fds", "2", "x"]).unwrap();
        let Some(Command::Run(r)) = c.command else { panic!("not run") };
        assert!(r.detach && !r.keep);
        assert_eq!(
            (r.create.bundle.to_str(), r.create.preserve_fds, r.create.id.as_str()),
            (Some("/b"), 2, "x")
        );
        let Some(Command::Kill(k)) = cli(&["kill", "x"]).unwrap().command else { panic!("not kill") };
        assert_eq!(k.signal, "SIGTERM");
        let Some(Command::Kill(k)) = cli(&["kill", "--all", "x", "KILL"]).unwrap().command else {
            panic!("not kill")
        };
        assert!(k.all && k.signal == "KILL");
    }

    #[test]
    fn every_command_has_help_and_unknown_ones_are_named() {
        for c in [
            "create", "start", "run", "state", "exec", "kill", "delete", "list", "ls", "spec", "pause",
            "resume", "ps", "events", "update", "features", "check",
        ] {
            assert!(
                matches!(cli(&[c, "--help"]), Err(UsageError::Help(h)) if h.contains("Usage: scutum")),
                "{c}"
            );
            assert!(matches!(cli(&["help", c]), Err(UsageError::Help(_))), "help {c}");
        }
        assert!(matches!(cli(&["--help"]), Err(UsageError::Help(h)) if h.contains("Commands:")));
        assert!(matches!(cli(&["frobnicate"]), Err(UsageError::UnknownCommand(c)) if c == "frobnicate"));
        assert!(cli(&["--version"]).unwrap().version);
        assert!(cli(&[]).unwrap().command.is_none());
    }
}
