//! Status is derived from the process, not read from a file: the init's pid plus the start time
//! recorded at create time identify it, so a recycled pid is never taken for the container.

use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// What /proc says about a recorded (pid, start time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The same process, not yet exited.
    Alive,
    /// Gone, a zombie, or the pid now belongs to another process.
    Gone,
}

/// Reads (state, start time in clock ticks) from `<proc>/<pid>/stat`.
pub fn proc_start_time(proc_root: &Path, pid: i32) -> Option<(char, u64)> {
    let path = proc_root.join(format!("{pid}/stat"));
    crate::sys::fs::read_small_with(&path, |stat| parse_stat(std::str::from_utf8(stat).ok()?)).ok()?
}

/// Parses the state letter and field 22 (starttime) of a /proc/<pid>/stat line. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // After the state (field 3), starttime is field 22: 18 more fields on.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Whether `pid` is still the process that started at `start` (and has not exited).
pub fn liveness(proc_root: &Path, pid: i32, start: u64) -> Liveness {
    if pid <= 0 {
        return Liveness::Gone;
    }
    match proc_start_time(proc_root, pid) {
        Some((state, s)) if s == start && state != 'Z' && state != 'X' => Liveness::Alive,
        _ => Liveness::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_hostile_comm() {
        let line = "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50";
        assert_eq!(parse_stat(line), Some(('S', 987654)));
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id() as i32;
        let (_, start) = proc_start_time(Path::new("/proc"), me).unwrap();
        assert_eq!(liveness(Path::new("/proc"), me, start), Liveness::Alive);
        assert_eq!(liveness(Path::new("/proc"), me, start + 1), Liveness::Gone);
        assert_eq!(liveness(Path::new("/proc"), 0, start), Liveness::Gone);
    }
}
