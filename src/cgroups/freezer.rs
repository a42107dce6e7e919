//! Pause and resume through `cgroup.freeze` (cgroup v2's core freezer, Linux 5.2). Writing the
//! file only starts freezing; the cgroup is frozen when `cgroup.events` says `frozen 1`, which
//! is waited for with poll(2) on that file (the kernel signals each change with POLLPRI), never
//! with sleeps.

use super::CgroupError;
use crate::sys::poll::{self, POLLPRI};
use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a freeze may take before it is undone and reported. A task blocked in the kernel
/// (uninterruptible sleep, a vfork parent) can hold a freeze off indefinitely.
pub const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the cgroup is frozen now.
pub fn is_frozen(path: &Path) -> bool {
    std::fs::read_to_string(path.join("cgroup.events")).is_ok_and(|s| s.lines().any(|l| l == "frozen 1"))
}

/// Freezes (or thaws) the cgroup and waits until the kernel says it is done. A freeze that does
/// not complete in [`FREEZE_TIMEOUT`] is undone, so a failed pause leaves the container running.
pub fn set(path: &Path, frozen: bool) -> Result<(), CgroupError> {
    let file = path.join("cgroup.freeze");
    let value = if frozen { "1" } else { "0" };
    std::fs::write(&file, value).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => CgroupError::State {
            path: path.to_path_buf(),
            reason: "has no cgroup.freeze: the cgroup v2 freezer needs Linux 5.2".into(),
        },
        _ => CgroupError::io(if frozen { "write 1 to" } else { "write 0 to" }, &file, e),
    })?;
    let want = if frozen { "frozen 1" } else { "frozen 0" };
    if wait_event(path, want, FREEZE_TIMEOUT)? {
        return Ok(());
    }
    if frozen {
        let _ = std::fs::write(&file, "0");
    }
    Err(CgroupError::State {
        path: path.to_path_buf(),
        reason: format!(
            "did not {} within {} s (cgroup.events never said {want:?})",
            if frozen { "freeze" } else { "thaw" },
            FREEZE_TIMEOUT.as_secs()
        ),
    })
}

/// Waits until `cgroup.events` has the line `line` (e.g. "frozen 1", "populated 0"). False when
/// `timeout` passed first.
pub fn wait_event(path: &Path, line: &str, timeout: Duration) -> Result<bool, CgroupError> {
    let name = path.join("cgroup.events");
    let mut f = File::open(&name).map_err(|e| CgroupError::io("open", &name, e))?;
    let deadline = Instant::now() + timeout;
    let mut text = String::new();
    loop {
        text.clear();
        // Reading is also what re-arms POLLPRI for the next change.
        f.rewind()
            .and_then(|_| f.read_to_string(&mut text))
            .map_err(|e| CgroupError::io("read", &name, e))?;
        if text.lines().any(|l| l == line) {
            return Ok(true);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        poll::poll(&[(f.as_fd(), POLLPRI)], ms).map_err(|e| CgroupError::io("poll", &name, e))?;
    }
}
