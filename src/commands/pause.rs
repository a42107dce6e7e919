//! `pause`: freeze every process of the container (cgroup.freeze), like runc: a running or
//! created container can be paused; `state` then says `paused`.

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
    match c.status() {
        Status::Running | Status::Created => {}
        status => {
            return Err(ContainerError::WrongStatus {
                id: id.into(),
                status,
                what: "only a running or created container can be paused",
            }
            .into())
        }
    }
    freezer::set(cgroup_of(&c, "pause")?, true)?;
    let mut state = c.state.clone();
    state.paused = true;
    dir.save(&state)?;
    Ok(0)
}
