//! The state store: one directory per container under the runtime root, holding `state.json`
//! (written atomically), the effective `config.json`, and the exec fifo. Status is derived from
//! the live process, never trusted from the file alone.

mod id;
mod state;
mod status;

pub use id::validate_id;
pub use state::{list_ids, Container, State, StateDir, CONFIG_FILE, FIFO_FILE, STATE_FILE};
pub use status::{proc_start_time, Liveness, Status};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("invalid container id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("container {0} does not exist")]
    NotExist(String),
    #[error("container {0} already exists")]
    AlreadyExists(String),
    #[error("container {id} is {status}: {what}")]
    WrongStatus { id: String, status: Status, what: &'static str },
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("corrupt state file {path}: {msg}")]
    Corrupt { path: PathBuf, msg: String },
}

impl ContainerError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ContainerError::Io { action, path: path.into(), source }
    }
}

pub mod audit;
pub mod create;
pub mod delete;
pub mod exec;
pub mod start;
pub mod uidpool;
