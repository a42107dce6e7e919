use crate::cli::GlobalArgs;
use crate::container::{validate_id, Container};
use crate::error::Result;

pub fn run(g: &GlobalArgs, id: &str) -> Result<i32> {
    validate_id(id)?;
    let c = Container::load(&g.root, id)?;
    println!("{}", serde_json::to_string_pretty(&c.state_json()).expect("json"));
    Ok(0)
}
