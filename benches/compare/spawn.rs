//! Spawning one runtime process and timing it from spawn to exit.
//!
//! Every runtime is started the same way (std's `Command`: fork + execve, no shell, no
//! wrapper) and reaped with wait4 so the kernel's rusage for that process comes back with its
//! exit status. This file holds the bench's only `unsafe`: wait4 and a no-op pre_exec.
//!
//! Why fork and not posix_spawn: the kernel carries the pre-exec address space's peak RSS into
//! the new image's `ru_maxrss`. posix_spawn's vfork-style child shares the driver's whole
//! address space (~2.3 MiB here, mostly the driver's own code pages), so every runtime would
//! read at least that. A forked child starts with a copy of only the driver's anonymous pages
//! (~0.2 MiB; code pages are not copied), so peaks down to well under 1 MiB are measurable.
//! The `fork+exec /bin/true` floor shows what this costs in time; it is the same for every
//! runtime.

use std::io;
use std::mem::MaybeUninit;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// One timed runtime process.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// From just before spawn to just after wait4 returned.
    pub elapsed: Duration,
    pub status: ExitStatus,
    /// `ru_maxrss` (KiB) from wait4: the peak resident set of the runtime process, or of a
    /// descendant it waited for if that one peaked higher (Linux reports the maximum of both).
    pub maxrss_kib: u64,
}

/// Spawns `cmd`, waits for it and returns the wall time, exit status and peak RSS.
pub fn run_timed(cmd: &mut Command) -> io::Result<Timed> {
    if !posix_spawn() {
        // SAFETY: the hook does nothing (no allocation, no lock, no syscall), so it is
        // trivially safe to run between fork and exec. Its only effect is that std forks
        // instead of using posix_spawn (see the module docs).
        unsafe {
            cmd.pre_exec(|| Ok(()));
        }
    }
    let start = Instant::now();
    let child = cmd.spawn()?;
    let (status, maxrss_kib) = wait4(child.id())?;
    let elapsed = start.elapsed();
    // `child` was reaped by wait4: dropping it must not (and does not) wait again.
    drop(child);
    Ok(Timed { elapsed, status: ExitStatus::from_raw(status), maxrss_kib })
}

/// SCUTUM_BENCH_SPAWN=posix_spawn spawns with posix_spawn instead of fork: to check that the
/// choice does not move the times (peak RSS then reads at least the driver's own).
pub fn posix_spawn() -> bool {
    std::env::var("SCUTUM_BENCH_SPAWN").is_ok_and(|v| v == "posix_spawn")
}

/// wait4(pid) until it reports `pid`; returns the raw wait status and ru_maxrss (KiB).
fn wait4(pid: u32) -> io::Result<(i32, u64)> {
    let pid = i32::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    let mut status = 0;
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: `status` and `usage` are live, writable locals of exactly the types wait4
        // writes; `pid` is our own child that nobody else waits for.
        let r = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // SAFETY: `usage` was zero-initialised (all zeroes is a valid rusage, a plain C struct of
    // integers) and wait4 has since filled it in.
    let usage = unsafe { usage.assume_init() };
    Ok((status, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}
