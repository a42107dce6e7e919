//! `resume`: thaw a paused container.

use super::cgroup_of;
use crate::cgroups::freezer;
use crate::cli::GlobalArgs;
use crate::container::{validate_id, Container, ContainerError, StateDir, Status};
use crate::error::Result;

pub fn run(g: &GlobalArgs, id: &str) -> Result<i32> {
    validate_id(id)?;
    // Locked from load to save, so a concurrent start or delete cannot interleave.
    let dir = StateDir::open(&g.root, id)?;
    let c = Container::load(&g.root, id)?;
    let status = c.status();
    if status != Status::Paused {
        return Err(ContainerError::WrongStatus {
            id: id.into(),
            status,
            what: "only a paused container can be resumed",
        }
        .into());
    }
    freezer::set(cgroup_of(&c, "resume")?, false)?;
    let mut state = c.state.clone();
    state.paused = false;
    dir.save(&state)?;
    Ok(0)
}
