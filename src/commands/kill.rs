use crate::cli::{GlobalArgs, KillArgs};
use crate::container::{validate_id, Container, ContainerError, Status};
use crate::error::{Error, Result};
use crate::{signals, sys};
use std::os::fd::AsFd;

pub fn run(g: &GlobalArgs, a: &KillArgs) -> Result<i32> {
    validate_id(&a.id)?;
    let sig =
        signals::parse(&a.signal).ok_or_else(|| Error::Usage(format!("unknown signal {:?}", a.signal)))?;
    let c = Container::load(&g.root, &a.id)?;
    if c.status() == Status::Stopped {
        return Err(ContainerError::NotRunning(a.id.clone()).into());
    }
    if a.all {
        crate::cgroups::signal_all(super::cgroup_of(&c, "kill --all")?, sig)?;
        return Ok(0);
    }
    let pidfd = c.pidfd().ok_or_else(|| ContainerError::NotRunning(a.id.clone()))?;
    sys::process::pidfd_send_signal(pidfd.as_fd(), sig).map_err(|e| match e.raw_os_error() {
        Some(libc::ESRCH) => Error::Usage(format!("container {}: no such process", a.id)),
        _ => Error::host(format!("send signal {sig} to container {}", a.id), e),
    })?;
    Ok(0)
}
