use crate::cli::{CreateArgs, GlobalArgs};
use crate::container::create::{self, Console, CreateOpts, Created};
use crate::container::{audit, validate_id};
use crate::error::{Error, Result};
use crate::policy::{self, Evaluation, Policy, PolicyError, Severity};
use crate::{cgroups, log, spec};
use oci_spec::runtime::Spec;
use serde_json::json;
use std::path::{Path, PathBuf};

pub fn run(g: &GlobalArgs, a: &CreateArgs) -> Result<i32> {
    let console = a.console_socket.as_deref().map_or(Console::None, |p| Console::Socket(absolute(p)));
    create_container(g, a, console)?;
    Ok(0)
}

/// Paths on the command line are relative to the caller's cwd, as with runc.
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    };
    PathBuf::from("/").join(crate::rootfs::resolve::normalize(&joined))
}

/// Checks --preserve-fds: every fd it names must be open, or one of our own fds could land in
/// the range and be handed to the container.
fn check_preserved(n: u32) -> Result<()> {
    for fd in 3..3 + n as i32 {
        if !Path::new(&format!("/proc/self/fd/{fd}")).exists() {
            return Err(Error::Usage(format!("--preserve-fds {n}: fd {fd} is not open")));
        }
    }
    Ok(())
}

/// Loads, validates and evaluates a bundle's config under the host policy: what `create` and
/// `check` share. Nothing on the host is changed.
pub fn evaluate_bundle(
    g: &GlobalArgs,
    policy_flag: Option<&str>,
    bundle: &Path,
) -> Result<(Policy, Evaluation)> {
    let spec: Spec = spec::load_bundle(bundle).map_err(unknown_capability)?;
    spec::validate(&spec)?;
    let host = policy::select::select(policy_flag, &g.root)?;
    let rootfs = spec::rootfs_path(&spec, bundle);
    let ctx = policy::select::context(&spec, &rootfs, cgroups::pids_enforceable(Path::new("/proc")));
    let eval = policy::evaluate(&spec, &host, &ctx);
    Ok((host, eval))
}

/// oci-spec refuses capability names it does not know while parsing; that is the policy's
/// SCU-CAP-002, so say it in the policy's words.
fn unknown_capability(e: spec::SpecError) -> Error {
    match &e {
        spec::SpecError::Parse { field, msg, .. } if field.starts_with("process.capabilities") => {
            let f = policy::Finding::new("SCU-CAP-002", format!("/{}", field.replace('.', "/")), msg.clone());
            Error::Policy(PolicyError::Refused(format!("refused: {}", f.line())))
        }
        _ => e.into(),
    }
}

fn finding_ids(eval: &Evaluation) -> Vec<&str> {
    eval.findings.iter().map(|f| f.rule.as_str()).collect()
}

/// Everything `create` and `run` share: id check, config load, policy, then create.
pub fn create_container(g: &GlobalArgs, a: &CreateArgs, console: Console) -> Result<Created> {
    validate_id(&a.id)?;
    check_preserved(a.preserve_fds)?;
    let bundle = absolute(&a.bundle);
    let (host, eval) = evaluate_bundle(g, g.policy.as_deref(), &bundle)?;
    let audit_entry = |decision: &str, range: serde_json::Value| {
        json!({"id": a.id, "bundle": bundle, "policy": eval.policy, "decision": decision,
               "findings": finding_ids(&eval), "uidRange": range})
    };
    if eval.refused() {
        audit::record(&g.root, audit_entry("refused", json!(null)));
        return Err(PolicyError::Refused(eval.refusal_message()).into());
    }
    for f in &eval.findings {
        match f.severity {
            Severity::Warn => log::warn(&format!("container {}: {}", a.id, f.line())),
            _ => log::debug(&format!("container {}: {}", a.id, f.line())),
        }
    }
    let rootfs = spec::rootfs_path(&eval.spec, &bundle);
    let check = |src: &Path, ro: bool| {
        if host.refuse {
            policy::bind_source_refusal(src, ro, &host, &rootfs)
        } else {
            None
        }
    };
    let opts = CreateOpts {
        root: &g.root,
        policy: &eval.policy,
        userns: eval.userns.clone(),
        uid_pool: Some(host.uid_pool.clone()),
        bind_check: Some(&check),
        id: &a.id,
        bundle: bundle.clone(),
        pid_file: a.pid_file.as_deref().map(absolute),
        console,
        no_pivot: a.no_pivot,
        preserve_fds: a.preserve_fds,
        systemd_cgroup: g.systemd_cgroup,
        // The host policy decides whether limits this host cannot enforce may be dropped
        // (DESIGN.md §4); every preset but unconfined says no.
        allow_unenforced: host.allow_unenforced_limits,
    };
    match create::create(&opts, eval.spec.clone()) {
        Ok(c) => {
            audit::record(&g.root, audit_entry("accepted", json!(c.state.uid_range)));
            Ok(c)
        }
        Err(e) => {
            let mut entry = audit_entry("failed", json!(null));
            entry["error"] = json!(e.to_string());
            audit::record(&g.root, entry);
            Err(e)
        }
    }
}
