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
        let field = e.path().to_string();
        SpecError::Parse {
            path: path.to_path_buf(),
            field: if field == "." { "(document)".into() } else { field },
            msg: e.into_inner().to_string(),
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
