use crate::cli::GlobalArgs;
use crate::container::{start, validate_id};
use crate::error::Result;

pub fn run(g: &GlobalArgs, id: &str) -> Result<i32> {
    validate_id(id)?;
    start::start(&g.root, id)?;
    Ok(0)
}
