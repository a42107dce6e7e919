use crate::cli::{DeleteArgs, GlobalArgs};
use crate::container::{delete, validate_id};
use crate::error::Result;

pub fn run(g: &GlobalArgs, a: &DeleteArgs) -> Result<i32> {
    validate_id(&a.id)?;
    delete::delete(&g.root, &a.id, a.force, g.systemd_cgroup)?;
    Ok(0)
}
