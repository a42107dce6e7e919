//! `<root>/audit.log`: one JSON line per create, accepted or refused (time, id, bundle, policy,
//! decision, finding ids, uid range). Appended with O_APPEND in one write, so concurrent
//! creates never interleave inside a line.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

pub const AUDIT_FILE: &str = "audit.log";

/// Appends `entry` (plus the time) to the audit log; an unwritable log is reported as a warning,
/// never as a failure of the create it describes.
pub fn record(root: &Path, mut entry: serde_json::Value) {
    entry["time"] = serde_json::json!(crate::log::rfc3339(std::time::SystemTime::now()));
    let line = format!("{entry}\n");
    let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(root);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(root.join(AUDIT_FILE));
    if let Err(e) = file.and_then(|mut f| f.write_all(line.as_bytes())) {
        crate::log::warn(&format!("cannot write {}: {e}", root.join(AUDIT_FILE).display()));
    }
}
