//! `process.rlimits`: the runtime-spec names mapped to RLIMIT_* and applied to the init before
//! it drops privileges (lowering never needs privilege; raising a hard limit does).

use crate::sys;
use oci_spec::runtime::{PosixRlimit, PosixRlimitType};
use std::io;

// RLIMIT_* are u32 in glibc's libc bindings and c_int in musl's.
#[allow(clippy::unnecessary_cast)]
pub fn resource(t: PosixRlimitType) -> u32 {
    use PosixRlimitType::*;
    (match t {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    }) as u32
}

pub fn apply(limits: &[PosixRlimit]) -> io::Result<()> {
    for l in limits {
        sys::process::setrlimit(resource(l.typ()), l.soft(), l.hard()).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot set {} to {}/{}: {e}", l.typ(), l.soft(), l.hard()))
        })?;
    }
    Ok(())
}
