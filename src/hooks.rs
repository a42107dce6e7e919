//! OCI lifecycle hooks: each runs with the container's state JSON on stdin, its own args and
//! env, and an optional timeout. Failures of prestart, createRuntime, createContainer and
//! startContainer fail the operation; poststart and poststop failures are warnings.

use crate::sys;
use oci_spec::runtime::Hook;
use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{kind} hook {path}: cannot start: {source}")]
    Spawn { kind: &'static str, path: String, source: std::io::Error },
    #[error("{kind} hook {path}: timed out after {secs}s")]
    Timeout { kind: &'static str, path: String, secs: i64 },
    #[error("{kind} hook {path}: {status}{output}")]
    Failed { kind: &'static str, path: String, status: String, output: String },
}

/// Runs `hooks` in order, stopping at the first failure.
pub fn run_all(kind: &'static str, hooks: &[Hook], state_json: &str) -> Result<(), HookError> {
    hooks.iter().try_for_each(|h| run(kind, h, state_json))
}

/// Runs `hooks` in order, logging failures as warnings and going on (poststart, poststop).
pub fn run_all_warn(kind: &'static str, hooks: &[Hook], state_json: &str) {
    for h in hooks {
        if let Err(e) = run(kind, h, state_json) {
            crate::log::warn(&e.to_string());
        }
    }
}

fn run(kind: &'static str, hook: &Hook, state_json: &str) -> Result<(), HookError> {
    let path = hook.path().display().to_string();
    let spawn_err = |source| HookError::Spawn { kind, path: path.clone(), source };
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args().as_ref().filter(|a| !a.is_empty()) {
        cmd.arg0(&args[0]).args(&args[1..]);
    }
    cmd.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    // Output goes to a memfd, not a pipe: a chatty hook can never block on a full pipe.
    let out = sys::fs::memfd("hook-output").map_err(spawn_err)?;
    let out_file = std::fs::File::from(out);
    cmd.stdin(Stdio::piped())
        .stdout(out_file.try_clone().map_err(spawn_err)?)
        .stderr(out_file.try_clone().map_err(spawn_err)?);
    let mut child = cmd.spawn().map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin must not fail the write (EPIPE).
        let _ = stdin.write_all(state_json.as_bytes());
    }
    let timeout = hook.timeout().filter(|t| *t > 0);
    if let Some(secs) = timeout {
        let pidfd = sys::process::pidfd_open(child.id() as i32).map_err(spawn_err)?;
        let ready = sys::signal::poll_readable(&[pidfd.as_fd()], (secs * 1000).min(i32::MAX as i64) as i32)
            .map_err(spawn_err)?;
        if !ready[0] {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HookError::Timeout { kind, path, secs });
        }
    }
    let status = child.wait().map_err(spawn_err)?;
    if status.success() {
        return Ok(());
    }
    let mut output = String::new();
    let mut f = out_file;
    let _ = f.rewind();
    let _ = f.take(4096).read_to_string(&mut output);
    let output = output.trim();
    let output = if output.is_empty() { String::new() } else { format!(", output: {output}") };
    Err(HookError::Failed { kind, path, status: status.to_string(), output })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(json: &str) -> Hook {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn passes_state_on_stdin_args_and_env() {
        let dir = std::env::temp_dir().join(format!("scutum-hook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let h = hook(&format!(
            r#"{{"path":"/bin/sh","args":["sh","-c","cat > {0}; echo \"$0 $1 $FOO\" >> {0}","first"],"env":["FOO=bar"]}}"#,
            out.display()
        ));
        run("test", &h, "{\"id\":\"x\"}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":\"x\"}first  bar\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_carries_status_and_output() {
        let h = hook(r#"{"path":"/bin/sh","args":["sh","-c","echo boom >&2; exit 3"]}"#);
        let e = run("prestart", &h, "{}").unwrap_err().to_string();
        assert!(e.contains("exit status: 3") && e.contains("boom"), "{e}");
    }

    #[test]
    fn timeout_kills_the_hook() {
        let h = hook(r#"{"path":"/bin/sleep","args":["sleep","30"],"timeout":1}"#);
        // Without the timeout, sleep would exit 0 and the hook would succeed.
        assert!(matches!(run("createRuntime", &h, "{}"), Err(HookError::Timeout { .. })));
    }
}
