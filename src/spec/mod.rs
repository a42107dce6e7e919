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
    #[error("{path}: {size} bytes is larger than the {MAX_CONFIG_BYTES}-byte limit")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{path}: {field}: {msg}")]
    Parse { path: PathBuf, field: String, msg: String },
    #[error("config.json: {field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl SpecError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Invalid { field: field.into(), reason: reason.into() }
    }
}

/// Reads and parses `path` as a `T`, refusing files over [`MAX_CONFIG_BYTES`].
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T, SpecError> {
    let read_err = |source| SpecError::Read { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let size = file.metadata().map_err(read_err)?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(SpecError::TooLarge { path: path.to_path_buf(), size });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // take() guards against a file that grows between the size check and the read.
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(SpecError::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64 });
    }
    parse_json(path, &bytes)
}

/// Parses `bytes`; on failure the error names the JSON path of the offending field.
pub fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, SpecError> {
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
