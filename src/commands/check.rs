use crate::cli::{CheckArgs, GlobalArgs};
use crate::error::{Error, Result};

pub fn run(_g: &GlobalArgs, _a: &CheckArgs) -> Result<i32> {
    Err(Error::Usage("check: the host policy engine is not implemented yet".into()))
}
