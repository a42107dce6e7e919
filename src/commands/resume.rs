//! `resume`: thaw a paused container.

use super::cgroup_of;
use crate::cgroups::freezer;
use crate::cli::GlobalArgs;
use crate::container::{validate_id, Container, ContainerError, Status};
use crate::error::Result;

pub fn run(g: &GlobalArgs, id: &str) -> Result<i32> {
    validate_id(id)?;
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
    Ok(0)
}
