//! `<root>/<id>/state.json` and the locked state directory around it.

use super::status::{liveness, Liveness, Status};
use super::ContainerError;
use crate::sys;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, ContainerError>;

pub const STATE_FILE: &str = "state.json";
pub const CONFIG_FILE: &str = "config.json";
pub const FIFO_FILE: &str = "exec.fifo";

/// What scutum records about a container. Small on purpose: `state` and `list` read only this,
/// never the full config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    /// The last step the runtime completed: creating, created or running. The live status is
    /// derived from this and the process (see [`Container::status`]).
    pub status: Status,
    /// Host pid of the init, 0 until it exists.
    pub pid: i32,
    /// The init's start time (clock ticks since boot, /proc/<pid>/stat field 22).
    #[serde(default)]
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub owner: String,
    /// The container's cgroup directory, when scutum created one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<PathBuf>,
    /// The host id range allocated for its user namespace (hardened policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_range: Option<super::uidpool::UidRange>,
    /// The policy the container was created under.
    #[serde(default)]
    pub policy: String,
    /// Set by `pause`, cleared by `resume`: only then is the cgroup's freezer read to tell
    /// `paused`, so `state` and `list` do not read a cgroup file per container.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// The poststart and poststop hooks, copied from the config so `start` and `delete` need
    /// not parse it (usually empty, and then absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststart: Vec<oci_spec::runtime::Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststop: Vec<oci_spec::runtime::Hook>,
    /// How many ancestors of `cgroup` scutum created for it (removed with it when empty).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cgroup_owned_parents: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl State {
    /// Parses the bytes of container `id`'s state.json (read from `path`, named in errors).
    /// Pure, so that arbitrary bytes can be fuzzed without a state directory.
    pub fn parse(path: &Path, id: &str, bytes: &[u8]) -> Result<State> {
        let corrupt = |msg: String| ContainerError::Corrupt { path: path.to_path_buf(), msg };
        let state: State = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(crate::log::one_line(&e.to_string()).into()))?;
        if state.id != id {
            return Err(corrupt(format!("it describes container {:?}", state.id)));
        }
        Ok(state)
    }
}

/// A container's state directory, exclusively locked (flock) for as long as this value lives,
/// so create, start and delete of one container never interleave.
pub struct StateDir {
    pub path: PathBuf,
    fd: OwnedFd,
}

fn lock_dir(path: &Path) -> std::io::Result<OwnedFd> {
    let fd = sys::fs::openat(None, path, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW, 0)?;
    sys::fs::flock(fd.as_fd(), libc::LOCK_EX)?;
    Ok(fd)
}

impl StateDir {
    /// Creates `<root>/<id>` (0700). mkdir is atomic, so of two concurrent creates of one id
    /// exactly one succeeds and the other gets "already exists".
    pub fn create(root: &Path, id: &str) -> Result<Self> {
        ensure_root(root)?;
        let path = root.join(id);
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ContainerError::AlreadyExists(id.to_string()))
            }
            Err(e) => return Err(ContainerError::io("create state directory", path, e)),
        }
        let fd = lock_dir(&path).map_err(|e| ContainerError::io("lock state directory", &path, e))?;
        Ok(StateDir { path, fd })
    }

    /// Opens and locks an existing container's directory.
    pub fn open(root: &Path, id: &str) -> Result<Self> {
        let path = root.join(id);
        let fd = lock_dir(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ContainerError::NotExist(id.to_string()),
            _ => ContainerError::io("lock state directory", &path, e),
        })?;
        Ok(StateDir { path, fd })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes state.json atomically: a temp file in the same directory, fsync-free (the state
    /// dir is on tmpfs in practice), then rename over the old one.
    pub fn save(&self, state: &State) -> Result<()> {
        self.write_atomic(STATE_FILE, &serde_json::to_vec(state).expect("state serialises"))
    }

    pub fn write_atomic(&self, name: &str, data: &[u8]) -> Result<()> {
        let tmp = self.path.join(format!(".{name}.tmp"));
        let dst = self.path.join(name);
        std::fs::write(&tmp, data).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            ContainerError::io("write", &tmp, e)
        })?;
        std::fs::rename(&tmp, &dst).map_err(|e| ContainerError::io("rename into place", &dst, e))
    }

    /// Removes the directory and everything in it; the lock goes with it.
    pub fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.path)
            .map_err(|e| ContainerError::io("remove state directory", &self.path, e))?;
        drop(self.fd);
        Ok(())
    }
}

/// Creates the runtime root (0700) if needed.
fn ensure_root(root: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(|e| ContainerError::io("create runtime root", root, e))
}

/// A container as read from its state directory, without taking the lock (for state, list,
/// kill: they must stay fast and never block behind a create).
#[derive(Debug, Clone)]
pub struct Container {
    pub dir: PathBuf,
    pub state: State,
}

impl Container {
    pub fn load(root: &Path, id: &str) -> Result<Self> {
        let dir = root.join(id);
        let path = dir.join(STATE_FILE);
        let state = match sys::fs::read_small_with(&path, |bytes| State::parse(&path, id, bytes)) {
            Ok(s) => s?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ContainerError::NotExist(id.to_string()))
            }
            // Endless (a device in its place): as corrupt as garbage, and as recoverable.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(ContainerError::Corrupt { path, msg: e.to_string() })
            }
            Err(e) => return Err(ContainerError::io("read", path, e)),
        };
        Ok(Container { dir, state })
    }

    /// Whether the recorded init is still the live process.
    pub fn liveness(&self) -> Liveness {
        liveness(Path::new("/proc"), self.state.pid, self.state.pid_start)
    }

    /// The status a caller sees, derived from the process: gone is `stopped`; alive and paused
    /// by `pause` with its cgroup still frozen is `paused`; alive with the exec fifo present is
    /// `created`; else `running`. Only what the recorded step leaves open is checked (the fifo
    /// only before `start` recorded running, the freezer only after `pause`): `list` pays a
    /// few syscalls per container, not a dozen.
    pub fn status(&self) -> Status {
        let alive = self.liveness() == Liveness::Alive;
        match self.state.status {
            Status::Creating if alive || self.state.pid == 0 => Status::Creating,
            _ if !alive => Status::Stopped,
            _ if self.state.paused && self.is_frozen() => Status::Paused,
            Status::Created if self.dir.join(FIFO_FILE).exists() => Status::Created,
            _ => Status::Running,
        }
    }

    /// The pid to show for a container in `status`: 0 once it has stopped, as runc does.
    pub fn pid_when(&self, status: Status) -> i32 {
        if status == Status::Stopped {
            0
        } else {
            self.state.pid
        }
    }

    fn is_frozen(&self) -> bool {
        let Some(cg) = &self.state.cgroup else { return false };
        sys::fs::read_small(&cg.join("cgroup.events"))
            .is_ok_and(|s| s.split(|&b| b == b'\n').any(|l| l == b"frozen 1"))
    }

    /// The JSON `scutum state` prints (runtime-spec state plus runc's extra fields).
    pub fn state_json(&self) -> serde_json::Value {
        let status = self.status();
        let pid = self.pid_when(status);
        let mut v = serde_json::json!({
            "ociVersion": self.state.oci_version,
            "id": self.state.id,
            "pid": pid,
            "status": status,
            "bundle": self.state.bundle,
            "rootfs": self.state.rootfs,
            "created": self.state.created,
            "owner": self.state.owner,
        });
        if !self.state.annotations.is_empty() {
            v["annotations"] = serde_json::json!(self.state.annotations);
        }
        v
    }
}

/// Ids of every container under `root` (directories holding a state.json), sorted.
pub fn list_ids(root: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ContainerError::io("read runtime root", root, e)),
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| super::validate_id(id).is_ok())
        .collect();
    ids.sort();
    Ok(ids)
}

impl Container {
    /// A pidfd on the init, verified to be the recorded process (pid and start time checked
    /// after the pidfd is open, so a recycled pid can never be signalled). `None` when gone.
    pub fn pidfd(&self) -> Option<OwnedFd> {
        if self.state.pid <= 0 {
            return None;
        }
        let fd = sys::process::pidfd_open(self.state.pid).ok()?;
        (self.liveness() == Liveness::Alive).then_some(fd)
    }
}
