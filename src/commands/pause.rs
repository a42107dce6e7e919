//! `pause`: freeze every process of the container (cgroup.freeze), like runc: a running or
//! created container can be paused; `state` then says `paused`.

use super::cgroup_of;
use crate::cgroups::freezer;
use crate::cli::GlobalArgs;
use crate::container::{validate_id, Container, ContainerError, Status};
use crate::error::Result;

pub fn run(g: &GlobalArgs, id: &str) -> Result<i32> {
    validate_id(id)?;
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
    Ok(0)
}
