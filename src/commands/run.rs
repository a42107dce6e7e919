//! `run`: create + start, then (unless --detach) wait for the container, forwarding signals to
//! it and proxying its terminal, and exit with its status (128+signal when killed).

use super::create::{absolute, create_container};
use crate::cli::{GlobalArgs, RunArgs};
use crate::container::create::Console;
use crate::container::{delete, start};
use crate::error::Result;
use crate::process::foreground;

pub fn run(g: &GlobalArgs, a: &RunArgs) -> Result<i32> {
    let console = match (&a.create.console_socket, a.detach) {
        (Some(p), _) => Console::Socket(absolute(p)),
        (None, false) => Console::Return,
        (None, true) => Console::None,
    };
    // Blocked before the init exists, so a container that exits (or a signal that arrives)
    // before we wait is never lost; the init unblocks everything before execve.
    let set = foreground::block_signals()?;
    let id = &a.create.id;
    let mut created = create_container(g, &a.create, console)?;
    if let Err(e) = start::start(&g.root, id) {
        let _ = delete::delete(&g.root, id, true, g.systemd_cgroup);
        return Err(e);
    }
    if a.detach {
        return Ok(0);
    }
    let master = created.master.take();
    let exit = foreground::wait(&created.pidfd, &set, master);
    if !a.keep {
        delete::delete(&g.root, id, true, g.systemd_cgroup)?;
    }
    Ok(exit?.status())
}
