//! A runtime under test: its binary, its own `--root`, the global flags it always gets, and the
//! timed call that every measurement goes through.

use crate::setup::Result;
use crate::spawn::{run_timed, Timed};
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Runtime {
    /// Column name: runc, crun, scutum, scutum-hardened, or scutum-<variant>.
    pub name: String,
    /// One letter in container ids, so ids are unique across runtimes.
    pub tag: char,
    pub bin: PathBuf,
    /// This runtime's own state root (never the system default).
    pub root: PathBuf,
    /// Global flags before the subcommand (scutum: `--policy unconfined`, or nothing for the
    /// hardened defaults).
    pub global: Vec<String>,
    /// Whether the binary has an `exec` subcommand (scutum does not have one yet).
    pub has_exec: bool,
    /// Where the runtime's stderr goes; read back when a call fails.
    stderr: PathBuf,
}

impl Runtime {
    pub fn new(name: &str, tag: char, bin: PathBuf, work: &Path, global: &[&str]) -> Runtime {
        let mut rt = Runtime {
            name: name.to_string(),
            tag,
            bin,
            root: work.join(format!("root-{name}")),
            global: global.iter().map(|s| s.to_string()).collect(),
            has_exec: false,
            stderr: work.join(format!("stderr-{name}")),
        };
        rt.has_exec =
            rt.command(&["exec", "--help"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        rt
    }

    /// `<bin> --root <root> <global...> <args...>`, stdin and stdout /dev/null.
    fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root).args(&self.global).args(args);
        c.stdin(Stdio::null()).stdout(Stdio::null());
        c
    }

    /// Runs one timed call; an error unless it exits 0. The container init inherits stderr
    /// from `create`/`run`, so it goes to a file, never to a pipe someone would wait on.
    pub fn call<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Timed> {
        let err = File::create(&self.stderr).map_err(|e| format!("{}: {e}", self.stderr.display()))?;
        let mut cmd = self.command(args);
        cmd.stderr(err);
        let t = run_timed(&mut cmd)
            .map_err(|e| format!("{}: cannot spawn {}: {e}", self.name, self.bin.display()))?;
        if t.status.success() {
            return Ok(t);
        }
        let shown: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        Err(format!("{} {}: {} ({})", self.name, shown.join(" "), t.status, stderr.trim()))
    }

    /// Container ids currently in this runtime's root.
    pub fn ids(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // scutum's bookkeeping (the uid-range pool) is no container: '@' is never in an id.
            .filter(|n| !n.starts_with('@'))
            .collect();
        ids.sort();
        ids
    }

    /// Force-deletes every container in the root (cleanup; errors are reported, not fatal).
    pub fn delete_all(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for id in self.ids() {
            if let Err(e) = self.call(&["delete", "-f", &id]) {
                errors.push(e);
            }
        }
        errors
    }
}
