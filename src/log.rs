//! The runtime's log: `--log FILE` with `--log-format text|json`, plus one line on stderr for
//! errors. containerd shows users the last `"level":"error"` line of the JSON log, so that line
//! must name the root cause in plain words.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

struct Logger {
    file: Option<File>,
    format: Format,
    min: Level,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Opens the log file (append, created 0600 if missing). Called once by main.
pub fn init(path: Option<&Path>, format: Format, debug: bool) -> std::io::Result<()> {
    let file = match path {
        Some(p) => {
            use std::os::unix::fs::OpenOptionsExt;
            Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .custom_flags(libc::O_CLOEXEC)
                    .open(p)?,
            )
        }
        None => None,
    };
    let min = if debug { Level::Debug } else { Level::Info };
    let _ = LOGGER.set(Logger { file, format, min });
    Ok(())
}

/// `text` with its control characters escaped (`\n`, `\r`, `\u{1b}`...), for text taken from
/// a config, a state file or a policy file that ends up in a message: a record stays one line,
/// so a bundle cannot forge log lines, findings or terminal escapes.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.into() })
            .collect(),
    )
}

/// Writes one record to the log file (if any); errors and warnings also go to stderr.
pub fn log(level: Level, msg: &str) {
    // Messages escape what they quote from the input; this is the last line of defence.
    let msg = &*one_line(msg);
    let Some(l) = LOGGER.get() else {
        if level >= Level::Warn {
            eprintln!("scutum: {msg}");
        }
        return;
    };
    // Errors always reach stderr; warnings go to the log file when there is one (containerd
    // reads it), else to stderr.
    if level == Level::Error || (level == Level::Warn && l.file.is_none()) {
        let prefix = if level == Level::Warn { "warning: " } else { "" };
        eprintln!("scutum: {prefix}{msg}");
    }
    if level < l.min {
        return;
    }
    if let Some(mut f) = l.file.as_ref() {
        let line = match l.format {
            Format::Json => {
                let v = serde_json::json!({"level": level.name(), "msg": msg, "time": rfc3339(SystemTime::now())});
                format!("{v}\n")
            }
            Format::Text => format!("{} {} {}\n", rfc3339(SystemTime::now()), level.name(), msg),
        };
        // One write(2) per record so concurrent writers never interleave inside a line.
        let _ = f.write_all(line.as_bytes());
    }
}

pub fn error(msg: &str) {
    log(Level::Error, msg)
}

pub fn warn(msg: &str) {
    log(Level::Warn, msg)
}

pub fn info(msg: &str) {
    log(Level::Info, msg)
}

pub fn debug(msg: &str) {
    log(Level::Debug, msg)
}

/// Formats a time as RFC 3339 in UTC with nanoseconds ("2026-11-28T18:36:10.123456789Z").
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        // 2000-02-29 12:34:56.5 UTC: a leap day in a century leap year.
        let t = UNIX_EPOCH + Duration::new(951_827_696, 500_000_000);
        assert_eq!(rfc3339(t), "2000-02-29T12:34:56.500000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_890_970);
        assert_eq!(rfc3339(t), "2026-11-28T18:36:10.000000000Z");
    }

    #[test]
    fn one_line_escapes_control_characters_only() {
        assert!(matches!(one_line("plain /päth: ok"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\nb\r\u{1b}[2J\0\t"), "a\\nb\\r\\u{1b}[2J\\u{0}\\t");
    }
}
