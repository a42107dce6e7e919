//! One file per subcommand: each turns parsed arguments into calls on the modules below.

mod check;
mod create;
mod delete;
mod events;
mod exec;
mod features;
mod kill;
mod list;
mod pause;
mod ps;
mod resume;
mod run;
mod spec;
mod start;
mod state;
mod update;

use crate::cgroups::CgroupError;
use crate::cli::{Cli, Command};
use crate::container::Container;
use crate::error::Result;
use std::path::Path;

/// Runs the subcommand; returns the process exit status.
pub fn dispatch(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match cli.command.expect("main checks for a subcommand") {
        Command::Create(a) => create::run(g, &a),
        Command::Start(a) => start::run(g, &a.id),
        Command::Run(a) => run::run(g, &a),
        Command::State(a) => state::run(g, &a.id),
        Command::Exec(a) => exec::run(g, &a),
        Command::Kill(a) => kill::run(g, &a),
        Command::Delete(a) => delete::run(g, &a),
        Command::List(a) => list::run(g, &a),
        Command::Spec(a) => spec::run(&a),
        Command::Pause(a) => pause::run(g, &a.id),
        Command::Resume(a) => resume::run(g, &a.id),
        Command::Ps(a) => ps::run(g, &a),
        Command::Events(a) => events::run(g, &a),
        Command::Update(a) => update::run(g, &a),
        Command::Features => features::run(),
        Command::Check(a) => check::run(g, &a),
    }
}

/// The default config `scutum spec` writes (for other modules' unit tests).
#[cfg(test)]
pub fn spec_default_for_tests() -> serde_json::Value {
    spec::default_spec(false)
}

/// The container's cgroup, for the commands that act on it (`what` names the command).
fn cgroup_of<'a>(c: &'a Container, what: &'static str) -> std::result::Result<&'a Path, CgroupError> {
    c.state.cgroup.as_deref().ok_or_else(|| CgroupError::NoCgroup { id: c.state.id.clone(), what })
}
