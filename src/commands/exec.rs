//! `exec`: a new process in a running container, with runc's flags. It gets the container's
//! effective restrictions, judged again by the host policy (`--cap SYS_ADMIN` is refused).

use super::create::absolute;
use crate::cli::{ExecArgs, GlobalArgs};
use crate::container::create::Console;
use crate::container::exec::{self, ExecOpts};
use crate::container::{validate_id, Container, ContainerError, Status, CONFIG_FILE};
use crate::error::{Error, Result};
use crate::{policy, spec};
use oci_spec::runtime::{Capabilities, Capability, Process, Spec};

pub fn run(g: &GlobalArgs, a: &ExecArgs) -> Result<i32> {
    validate_id(&a.id)?;
    if a.apparmor.is_some() {
        return Err(Error::Usage("exec --apparmor: AppArmor profiles are not supported by scutum".into()));
    }
    if a.process_label.is_some() {
        return Err(Error::Usage("exec --process-label: SELinux labels are not supported by scutum".into()));
    }
    let c = Container::load(&g.root, &a.id)?;
    match c.status() {
        Status::Stopped => return Err(ContainerError::NotRunning(a.id.clone()).into()),
        Status::Paused if !a.ignore_paused => {
            return Err(Error::Usage(format!(
                "container {} is paused: exec would hang (use --ignore-paused)",
                a.id
            )))
        }
        _ => {}
    }
    let config: Spec = spec::load_json(&c.dir.join(CONFIG_FILE))?;
    let process = build_process(&config, a)?;
    // The process is judged as part of the container's config, by the same host policy.
    let mut candidate = config.clone();
    candidate.set_process(Some(process));
    let host = policy::select::select(g.policy.as_deref(), &g.root)?;
    let ctx = policy::select::context(
        &candidate,
        &c.state.rootfs,
        crate::cgroups::pids_enforceable(std::path::Path::new("/proc")),
    );
    let eval = policy::evaluate(&candidate, &host, &ctx);
    if eval.refused() {
        return Err(policy::PolicyError::Refused(eval.refusal_message()).into());
    }
    let process = eval.spec.process().clone().expect("set above");
    let terminal = process.terminal().unwrap_or(false);
    let console = match (&a.console_socket, terminal, a.detach) {
        (Some(_), false, _) => return Err(Error::Usage("--console-socket needs --tty".into())),
        (Some(p), true, _) => Console::Socket(absolute(p)),
        (None, true, true) => {
            return Err(Error::Usage("--tty with --detach needs a --console-socket".into()))
        }
        (None, true, false) => Console::Return,
        (None, false, _) => Console::None,
    };
    let opts = ExecOpts {
        detach: a.detach,
        pid_file: a.pid_file.as_deref().map(absolute),
        console,
        preserve_fds: a.preserve_fds,
        cgroup: a.cgroup.clone(),
    };
    exec::exec(&c, &eval.spec, &process, &opts)
}

fn parse_cap(name: &str) -> Result<Capability> {
    let n =
        if name.to_ascii_uppercase().starts_with("CAP_") { name.to_string() } else { format!("CAP_{name}") };
    serde_json::from_value(serde_json::json!(n))
        .map_err(|_| Error::Usage(format!("--cap: unknown capability {name:?}")))
}

/// The process to run: process.json as given, or the container's process with runc's
/// overrides (args, cwd, env appended, user, groups, caps added, tty, no_new_privs).
fn build_process(config: &Spec, a: &ExecArgs) -> Result<Process> {
    if let Some(path) = &a.process {
        let p: Process = spec::load_json(path)?;
        if p.args().as_ref().is_none_or(|x| x.is_empty()) {
            return Err(Error::Usage(format!("{}: args: missing or empty", path.display())));
        }
        return Ok(p);
    }
    if a.args.is_empty() {
        return Err(Error::Usage(
            "exec: no command given (args after the container id, or --process)".into(),
        ));
    }
    let mut p = config
        .process()
        .clone()
        .ok_or_else(|| Error::Usage("the container's config has no process".into()))?;
    p.set_args(Some(a.args.clone()));
    if let Some(cwd) = &a.cwd {
        if !cwd.is_absolute() {
            return Err(Error::Usage(format!("--cwd {}: not an absolute path", cwd.display())));
        }
        p.set_cwd(cwd.clone());
    }
    if !a.env.is_empty() {
        let mut env = p.env().clone().unwrap_or_default();
        env.extend(a.env.iter().cloned());
        p.set_env(Some(env));
    }
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u.parse::<u32>(), g.parse::<u32>()),
            None => (u.parse::<u32>(), Ok(p.user().gid())),
        };
        let (Ok(uid), Ok(gid)) = (uid, gid) else {
            return Err(Error::Usage(format!("--user {u:?}: expected uid[:gid] numbers")));
        };
        p.user_mut().set_uid(uid).set_gid(gid);
    }
    if !a.additional_gids.is_empty() {
        p.user_mut().set_additional_gids(Some(a.additional_gids.clone()));
    }
    if !a.cap.is_empty() {
        let added: Vec<Capability> = a.cap.iter().map(|c| parse_cap(c)).collect::<Result<_>>()?;
        let mut caps =
            p.capabilities().clone().unwrap_or_else(|| serde_json::from_str("{}").expect("empty caps"));
        let add = |set: &Option<Capabilities>| -> Option<Capabilities> {
            let mut s = set.clone().unwrap_or_default();
            s.extend(added.iter().copied());
            Some(s)
        };
        let (b, e, pm, i, am) = (
            add(caps.bounding()),
            add(caps.effective()),
            add(caps.permitted()),
            add(caps.inheritable()),
            add(caps.ambient()),
        );
        caps.set_bounding(b).set_effective(e).set_permitted(pm).set_inheritable(i).set_ambient(am);
        p.set_capabilities(Some(caps));
    }
    if a.tty {
        p.set_terminal(Some(true));
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    Ok(p)
}
