//! `events`: runc's event stream. `--stats` prints one `{"type":"stats","id":...,"data":{...}}`
//! line and exits; otherwise a stats line every `--interval` and a `{"type":"oom","id":...}` line
//! each time the OOM killer kills a process of the container, until the container stops.
//! OOM kills are noticed with poll(2) on `memory.events` (POLLPRI), not by polling on a timer.

use super::cgroup_of;
use crate::cgroups::stats;
use crate::cli::{EventsArgs, GlobalArgs};
use crate::container::{validate_id, Container, ContainerError, Status};
use crate::error::{Error, Result};
use crate::sys::poll::{self, POLLIN, POLLPRI};
use serde_json::{json, Value};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

pub fn run(g: &GlobalArgs, a: &EventsArgs) -> Result<i32> {
    validate_id(&a.id)?;
    let interval = parse_duration(&a.interval).filter(|d| !d.is_zero()).ok_or_else(|| {
        Error::Usage(format!("--interval {:?}: not a duration greater than 0 (like 5s or 500ms)", a.interval))
    })?;
    let c = Container::load(&g.root, &a.id)?;
    if c.status() == Status::Stopped {
        return Err(ContainerError::NotRunning(a.id.clone()).into());
    }
    let cg = cgroup_of(&c, "events")?;
    if a.stats {
        emit("stats", &a.id, Some(stats::stats(cg)));
        return Ok(0);
    }
    let pidfd = c.pidfd().ok_or_else(|| ContainerError::NotRunning(a.id.clone()))?;
    // Without the memory controller there is no memory.events, and no OOM event to report.
    let mut events = File::open(cg.join("memory.events")).ok();
    let mut ooms = events.as_mut().map_or(0, oom_kill_count);
    let mut next = Instant::now() + interval;
    loop {
        let mut fds = vec![(pidfd.as_fd(), POLLIN)];
        if let Some(f) = &events {
            fds.push((f.as_fd(), POLLPRI));
        }
        let left = next.saturating_duration_since(Instant::now()).as_millis().min(i32::MAX as u128) as i32;
        let ready = poll::poll(&fds, left).map_err(|e| Error::host("wait for container events", e))?;
        if let Some(f) = events.as_mut().filter(|_| ready.get(1).is_some_and(|&r| r != 0)) {
            // Reading also re-arms POLLPRI.
            let n = oom_kill_count(f);
            if n > ooms {
                emit("oom", &a.id, None);
            }
            ooms = ooms.max(n);
        }
        if ready[0] != 0 {
            return Ok(0);
        }
        if Instant::now() >= next {
            emit("stats", &a.id, Some(stats::stats(cg)));
            next = Instant::now() + interval;
        }
    }
}

fn emit(typ: &str, id: &str, data: Option<Value>) {
    let mut v = json!({"type": typ, "id": id});
    if let Some(d) = data {
        v["data"] = d;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

/// `oom_kill` of memory.events, read through `f` from the start.
fn oom_kill_count(f: &mut File) -> u64 {
    let mut text = String::new();
    if f.rewind().and_then(|_| f.read_to_string(&mut text)).is_err() {
        return 0;
    }
    text.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// A Go duration ("5s", "1.5s", "300ms", "1m30s", "2h"), as runc's --interval takes it.
pub fn parse_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * nanos;
    }
    if s.is_empty() || !total.is_finite() {
        return None;
    }
    Some(Duration::from_nanos(total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in ["", "5", "5x", "-1s", "s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
