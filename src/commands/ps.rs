//! `ps`: the container's processes, from its cgroup (sub-cgroups included). `--format json` is
//! an array of host pids (what containerd's shim reads); the table is `ps -ef` (or the given ps
//! options) filtered to those pids, as runc prints it.

use super::cgroup_of;
use crate::cgroups;
use crate::cli::{GlobalArgs, PsArgs, PsFormat};
use crate::container::{validate_id, Container, ContainerError, Status};
use crate::error::{Error, Result};
use std::io::Write;

pub fn run(g: &GlobalArgs, a: &PsArgs) -> Result<i32> {
    validate_id(&a.id)?;
    let c = Container::load(&g.root, &a.id)?;
    if c.status() == Status::Stopped {
        return Err(ContainerError::NotRunning(a.id.clone()).into());
    }
    let pids = cgroups::pids(cgroup_of(&c, "ps")?)?;
    let mut out = std::io::stdout().lock();
    if a.format == PsFormat::Json {
        let _ = writeln!(out, "{}", serde_json::to_string(&pids).expect("json"));
        return Ok(0);
    }
    let args: Vec<&str> =
        if a.ps_args.is_empty() { vec!["-ef"] } else { a.ps_args.iter().map(String::as_str).collect() };
    let o = std::process::Command::new("ps")
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::host("run ps", e))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(Error::Usage(format!("ps {}: {}", args.join(" "), err.trim())));
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let Some(col) = header.split_whitespace().position(|h| h == "PID") else {
        return Err(Error::Usage(format!("ps {}: no PID column in its output", args.join(" "))));
    };
    let _ = writeln!(out, "{header}");
    for line in lines {
        let pid = line.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.binary_search(&p).is_ok()) {
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(0)
}
