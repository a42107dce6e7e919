//! Loading config.json (and exec's process.json) into oci-spec types, and validating its
//! shape before anything acts on it. Every error names the JSON field it is about.

pub mod defaults;
mod validate;

pub use validate::validate;

use oci_spec::runtime::Spec;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Configs above this size are refused before parsing: a real config with a large seccomp
/// profile is ~100 KiB; a multi-megabyte one is an attempt to exhaust the runtime.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: is {kind}, not a regular file")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path}: {} is larger than the {MAX_CONFIG_BYTES}-byte limit", size_text(*.size))]
    TooLarge {
        path: PathBuf,
        /// `None` when the file had more to read than its size said (it grew, or it is a
        /// pseudo-file that reports no size).
        size: Option<u64>,
    },
    #[error("{path}: {field}: {msg}")]
    Parse { path: PathBuf, field: String, msg: String },
    #[error("config.json: {field}: {reason}")]
    Invalid { field: String, reason: String },
}

fn size_text(size: Option<u64>) -> String {
    match size {
        Some(n) => format!("{n} bytes"),
        None => format!("its content (read up to {} bytes)", MAX_CONFIG_BYTES + 1),
    }
}

impl SpecError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Invalid { field: field.into(), reason: reason.into() }
    }
}

fn kind_of(t: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    Some(match t {
        t if t.is_file() => return None,
        t if t.is_dir() => "a directory",
        t if t.is_fifo() => "a fifo",
        t if t.is_socket() => "a socket",
        t if t.is_char_device() => "a character device",
        t if t.is_block_device() => "a block device",
        _ => "not a file",
    })
}

/// Reads `path` (symlinks followed, as runc does), refusing anything but a regular file of at
/// most [`MAX_CONFIG_BYTES`]. A FIFO would block the runtime forever and /dev/zero would
/// never end, so neither is read.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, SpecError> {
    use std::os::unix::fs::OpenOptionsExt;
    let read_err = |source| SpecError::Read { path: path.to_path_buf(), source };
    let not_regular = |t| kind_of(t).map(|kind| SpecError::NotRegular { path: path.to_path_buf(), kind });
    // Looked at before opening: opening a device or a FIFO can have effects of its own.
    if let Some(e) = not_regular(std::fs::metadata(path).map_err(read_err)?.file_type()) {
        return Err(e);
    }
    // Checked again on the open file, in case the path was swapped in between: O_NONBLOCK so
    // that a FIFO opens at once instead of waiting for a writer (it changes nothing for a
    // regular file), O_NOCTTY so that a terminal never becomes ours.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if let Some(e) = not_regular(meta.file_type()) {
        return Err(e);
    }
    read_capped(path, file, meta.len())
}

/// Reads `file`, whose size says `size`, up to [`MAX_CONFIG_BYTES`].
fn read_capped(path: &Path, file: impl Read, size: u64) -> Result<Vec<u8>, SpecError> {
    if size > MAX_CONFIG_BYTES {
        return Err(SpecError::TooLarge { path: path.to_path_buf(), size: Some(size) });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // take() guards against a file that grows between the size check and the read, and
    // against pseudo-files (procfs) whose size says 0.
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| SpecError::Read { path: path.to_path_buf(), source })?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(SpecError::TooLarge { path: path.to_path_buf(), size: None });
    }
    Ok(bytes)
}

/// Reads and parses `path` as a `T` (see [`read_limited`] for what is refused).
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T, SpecError> {
    parse_json(path, &read_limited(path)?)
}

/// Parses `bytes`; on failure the error names the JSON path of the offending field.
pub fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, SpecError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(SpecError::Parse {
            path: path.to_path_buf(),
            field: "(document)".into(),
            msg: "the file is empty".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // Both quote the input (map keys, unknown variants): escaped, so the error is one line.
        let field = crate::log::one_line(&e.path().to_string()).into_owned();
        SpecError::Parse {
            path: path.to_path_buf(),
            field: if field == "." { "(document)".into() } else { field },
            msg: crate::log::one_line(&e.into_inner().to_string()).into_owned(),
        }
    })
}

/// Loads `<bundle>/config.json`.
pub fn load_bundle(bundle: &Path) -> Result<Spec, SpecError> {
    load_json(&bundle.join("config.json"))
}

/// The rootfs path of `spec`, made absolute against the bundle.
pub fn rootfs_path(spec: &Spec, bundle: &Path) -> PathBuf {
    let p = spec.root().as_ref().map(|r| r.path().clone()).unwrap_or_default();
    if p.is_absolute() {
        p
    } else {
        bundle.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tmp(PathBuf);
    impl Tmp {
        fn new(name: &str) -> Tmp {
            let p = std::env::temp_dir().join(format!("scutum-spec-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir(&p).unwrap();
            Tmp(p)
        }
    }
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read_err(path: &Path) -> String {
        read_limited(path).unwrap_err().to_string()
    }

    #[test]
    fn only_regular_files_are_read() {
        let t = Tmp::new("kinds");
        let fifo = t.0.join("fifo");
        crate::sys::fs::mkfifo(&fifo, 0o600).unwrap();
        // Without O_NONBLOCK this would wait for a writer forever.
        assert!(read_err(&fifo).ends_with("fifo: is a fifo, not a regular file"), "{}", read_err(&fifo));
        assert!(read_err(&t.0).ends_with(": is a directory, not a regular file"));
        let zero = t.0.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(read_err(&zero).ends_with("zero: is a character device, not a regular file"));
        let sock = t.0.join("sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(read_err(&sock).ends_with("sock: is a socket, not a regular file"));
        let file = t.0.join("config.json");
        std::fs::write(&file, b"{}").unwrap();
        assert_eq!(read_limited(&file).unwrap(), b"{}");
        let link = t.0.join("link.json");
        std::os::unix::fs::symlink("config.json", &link).unwrap();
        assert_eq!(read_limited(&link).unwrap(), b"{}", "symlinks to regular files are followed, as in runc");
    }

    #[test]
    fn files_over_the_limit_are_refused_even_when_their_size_lies() {
        let t = Tmp::new("size");
        let big = t.0.join("big.json");
        std::fs::write(&big, vec![b' '; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        assert!(read_err(&big).ends_with(": 4194305 bytes is larger than the 4194304-byte limit"));
        std::fs::write(&big, vec![b' '; MAX_CONFIG_BYTES as usize]).unwrap();
        assert_eq!(read_limited(&big).unwrap().len() as u64, MAX_CONFIG_BYTES);
        // A file that grows after the size check, or a procfs file whose size says 0: the
        // content never ends, and reading stops one byte past the limit.
        let endless = std::io::repeat(b' ');
        let e = read_capped(Path::new("config.json"), endless, 0).unwrap_err().to_string();
        assert_eq!(
            e,
            "config.json: its content (read up to 4194305 bytes) is larger than the 4194304-byte limit"
        );
    }

    #[test]
    fn an_empty_file_says_so() {
        for text in ["", " \n\t "] {
            let e = parse_json::<Spec>(Path::new("config.json"), text.as_bytes()).unwrap_err().to_string();
            assert_eq!(e, "config.json: (document): the file is empty");
        }
    }

    /// Found by fuzzing: serde quotes unknown variants and map keys verbatim, so a control
    /// character in the config made a multi-line error (and a forged log line).
    #[test]
    fn parse_errors_quoting_the_input_stay_one_line() {
        for text in
            [r#"{"linux":{"namespaces":[{"type":"pid\nSCU-FAKE"}]}}"#, r#"{"annotations":{"a\nb":1}}"#]
        {
            let e = parse_json::<Spec>(Path::new("config.json"), text.as_bytes()).unwrap_err().to_string();
            assert!(!e.contains('\n'), "{e}");
            assert!(e.contains(r"\n"), "{e}");
        }
    }
}
