//! Signal names as `kill` accepts them: "TERM", "SIGTERM", "sigterm" or a number.

const NAMES: [(&str, i32); 31] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("SYS", libc::SIGSYS),
];

/// Parses a signal name (with or without SIG, any case) or number (1..=64).
pub fn parse(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some(&(_, n)) = NAMES.iter().find(|(k, _)| *k == name) {
        return Some(n);
    }
    // Real-time signals: RTMIN, RTMIN+3, RTMAX-2.
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        if rest.is_empty() {
            return Some(base);
        }
        let off: i32 = rest.get(1..)?.parse().ok()?;
        let want = if sign > 0 { '+' } else { '-' };
        (rest.starts_with(want)).then_some(base + sign * off)
    };
    let n = if let Some(r) = name.strip_prefix("RTMIN") {
        rt(libc::SIGRTMIN(), r, 1)?
    } else if let Some(r) = name.strip_prefix("RTMAX") {
        rt(libc::SIGRTMAX(), r, -1)?
    } else {
        return None;
    };
    (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_and_without_sig_and_numbers() {
        assert_eq!(parse("TERM"), Some(15));
        assert_eq!(parse("SIGKILL"), Some(9));
        assert_eq!(parse("sigusr1"), Some(libc::SIGUSR1));
        assert_eq!(parse("9"), Some(9));
        assert_eq!(parse("RTMIN+1"), Some(libc::SIGRTMIN() + 1));
    }

    #[test]
    fn rejects_nonsense() {
        for s in ["", "0", "65", "-1", "SIGFOO", "RTMIN+99", "TERM9"] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
