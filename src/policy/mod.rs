//! The host policy: what a container may be. `evaluate` is a pure function from a config and a
//! policy to the effective config plus findings; it runs before any side effect, so a refused
//! config leaves nothing behind, and `scutum check` prints exactly what `create` would decide.
//!
//! Presets: `hardened` (default: refusals plus forced hardening), `baseline` (refusals only),
//! `unconfined` (runc semantics, a warning on every create). The host chooses (see
//! [`select`]); a bundle's annotation `io.scutum.policy` can only tighten.
//!
//! Each rule is one row of profiles/policy/rules.json (id, severity, reason, reference,
//! remedy); its code is one small function in [`refuse`] or [`adjust`].

mod adjust;
pub mod data;
mod paths;
mod refuse;
pub mod select;

pub use paths::bind_source_refusal;

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The five capability sets of a config, by their JSON names.
fn capability_sets(
    c: &oci_spec::runtime::LinuxCapabilities,
) -> [(&'static str, &Option<oci_spec::runtime::Capabilities>); 5] {
    [
        ("bounding", c.bounding()),
        ("effective", c.effective()),
        ("inheritable", c.inheritable()),
        ("permitted", c.permitted()),
        ("ambient", c.ambient()),
    ]
}

/// The annotation a bundle may use to ask for a stricter policy.
pub const POLICY_ANNOTATION: &str = "io.scutum.policy";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UidPool {
    /// First host id of the pool.
    pub start: u64,
    /// Number of host ids in the pool; each container gets 65536 of them.
    pub size: u64,
}

/// An effective host policy: a preset with the host's overrides applied.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    /// Apply the SCU-* refusal rules.
    pub refuse: bool,
    /// Apply the hardened adjustments (SCU-ADJ-*).
    pub adjust: bool,
    pub user_namespace: bool,
    pub uid_pool: UidPool,
    pub readonly_root: bool,
    pub no_new_privileges: bool,
    pub default_seccomp: bool,
    pub cgroup_namespace: bool,
    /// Capabilities granted at most (empty: no ceiling).
    pub capability_ceiling: Vec<String>,
    /// tmpfs sizes for /tmp, /run, /var/tmp (hardened).
    pub tmpfs: BTreeMap<String, String>,
    pub default_pids_limit: i64,
    pub restrict_hooks: bool,
    pub hook_allowlist: Vec<String>,
    /// Forbidden capabilities the host allows anyway (and that the ceiling then includes).
    pub allow_capabilities: Vec<String>,
    /// Host paths allowed as bind sources despite SCU-MNT-001.
    pub allow_bind_sources: Vec<String>,
    /// Run with resource limits the host cannot enforce (cgroup v2 controller missing).
    pub allow_unenforced_limits: bool,
}

/// A policy file as operators write it: a preset and optional overrides.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyFile {
    pub preset: String,
    pub allow_capabilities: Option<Vec<String>>,
    pub allow_bind_sources: Option<Vec<String>>,
    pub uid_pool: Option<UidPool>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub default_pids_limit: Option<i64>,
    pub hook_allowlist: Option<Vec<String>>,
    pub allow_unenforced_limits: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown policy preset {0:?} (hardened, baseline or unconfined)")]
    UnknownPreset(String),
    #[error("policy file {path}: {msg}")]
    File { path: PathBuf, msg: String },
    #[error("{0}")]
    Refused(String),
}

impl Policy {
    /// One of the built-in presets.
    pub fn preset(name: &str) -> Result<Policy, PolicyError> {
        let text = match name {
            "hardened" => data::HARDENED,
            "baseline" => data::BASELINE,
            "unconfined" => data::UNCONFINED,
            other => return Err(PolicyError::UnknownPreset(other.to_string())),
        };
        Ok(serde_json::from_str(text).expect("built-in presets are valid (unit tested)"))
    }

    /// A preset with a policy file's overrides. Overrides may widen what the preset allows:
    /// that is the host operator's decision, and the file is theirs.
    pub fn from_file(path: &Path, bytes: &[u8]) -> Result<Policy, PolicyError> {
        let file_err = |msg: String| PolicyError::File { path: path.to_path_buf(), msg };
        let f: PolicyFile = crate::spec::parse_json(path, bytes).map_err(|e| file_err(e.to_string()))?;
        let mut p = Policy::preset(&f.preset).map_err(|e| file_err(e.to_string()))?;
        if let Some(v) = f.allow_capabilities {
            for c in &v {
                if !crate::caps::NAMES.contains(&c.as_str()) {
                    return Err(file_err(format!("allowCapabilities: unknown capability {c:?}")));
                }
            }
            p.allow_capabilities = v;
        }
        if let Some(v) = f.allow_bind_sources {
            if let Some(bad) = v.iter().find(|s| !s.starts_with('/')) {
                return Err(file_err(format!("allowBindSources: {bad:?} is not an absolute path")));
            }
            p.allow_bind_sources = v;
        }
        if let Some(v) = f.uid_pool {
            // checked_add: with a start near 2^64 the sum would wrap (in release builds) to a
            // small end and pass, and the pool's ids, truncated to 32 bits, start at host root.
            let end = v.start.checked_add(v.size);
            if v.size < 65536 || v.start == 0 || end.is_none_or(|e| e > 1 << 32) {
                return Err(file_err("uidPool: needs start > 0, size >= 65536, start + size <= 2^32".into()));
            }
            p.uid_pool = v;
        }
        if let Some(v) = f.tmpfs {
            p.tmpfs = v;
        }
        if let Some(v) = f.default_pids_limit {
            p.default_pids_limit = v;
        }
        if let Some(v) = f.hook_allowlist {
            p.hook_allowlist = v;
        }
        if let Some(v) = f.allow_unenforced_limits {
            p.allow_unenforced_limits = v;
        }
        Ok(p)
    }

    /// How strict the preset is: unconfined < baseline < hardened.
    fn strictness(name: &str) -> Option<u8> {
        match name {
            "unconfined" => Some(0),
            "baseline" => Some(1),
            "hardened" => Some(2),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Refuse,
    Adjust,
    Warn,
}

/// One decision about one config field.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    /// JSON pointer of the config field.
    pub pointer: String,
    /// What exactly was found ("CAP_SYS_ADMIN in bounding", "/var/run/docker.sock").
    pub detail: String,
    pub reason: String,
    pub reference: String,
    pub remedy: String,
}

impl Finding {
    pub fn new(rule: &str, pointer: impl Into<String>, detail: impl Into<String>) -> Finding {
        let info = data::rule(rule);
        let severity = match info.severity.as_str() {
            "refuse" => Severity::Refuse,
            "adjust" => Severity::Adjust,
            _ => Severity::Warn,
        };
        // Pointers and details quote the config (paths, names): escaped, so that a finding
        // is one line in `check`'s output and in the log.
        let one_line = |s: String| crate::log::one_line(&s).into_owned();
        Finding {
            rule: info.id.clone(),
            severity,
            pointer: one_line(pointer.into()),
            detail: one_line(detail.into()),
            reason: info.reason.clone(),
            reference: info.reference.clone(),
            remedy: info.remedy.clone(),
        }
    }

    /// "SCU-CAP-001 /process/capabilities/bounding: CAP_SYS_ADMIN: <reason> (remedy: ...)".
    pub fn line(&self) -> String {
        format!("{} {}: {}: {} (remedy: {})", self.rule, self.pointer, self.detail, self.reason, self.remedy)
    }
}

/// Facts about the host that rules need, gathered by the caller (see [`select::context`]),
/// so `evaluate` itself stays pure.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// Absolute rootfs path (a bind source must not be its ancestor).
    pub rootfs: PathBuf,
    /// Identity (st_dev, st_ino) of each namespace the runtime itself is in (the host's).
    pub host_namespaces: HashMap<LinuxNamespaceType, (u64, u64)>,
    /// Identity of each namespace path the config names; `None` when it cannot be read.
    pub ns_paths: HashMap<PathBuf, Option<(u64, u64)>>,
    /// A pids limit would be enforced on this host (cgroup v2 pids controller).
    pub pids_enforceable: bool,
}

/// What create must do beyond the effective config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernsPlan {
    /// Allocate a 65536-id range from the pool and map the container's user namespace to it.
    pub allocate: bool,
    /// Idmap the rootfs through the container's user namespace.
    pub idmap_rootfs: bool,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub policy: String,
    pub spec: Spec,
    pub findings: Vec<Finding>,
    pub userns: UsernsPlan,
}

impl Evaluation {
    pub fn refused(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Refuse)
    }

    /// One line listing every refused item, for stderr and the JSON log.
    pub fn refusal_message(&self) -> String {
        let items: Vec<String> =
            self.findings.iter().filter(|f| f.severity == Severity::Refuse).map(Finding::line).collect();
        format!("refused by policy {}: {}", self.policy, items.join("; "))
    }
}

/// The policy a bundle gets: the host's, or a stricter preset its annotation asks for.
fn effective_policy(spec: &Spec, host: &Policy, findings: &mut Vec<Finding>) -> Policy {
    let asked = spec.annotations().as_ref().and_then(|a| a.get(POLICY_ANNOTATION));
    let Some(asked) = asked else { return host.clone() };
    match (Policy::strictness(asked), Policy::strictness(&host.name)) {
        (Some(a), Some(h)) if a > h => Policy::preset(asked).unwrap_or_else(|_| host.clone()),
        (Some(a), Some(h)) if a == h => host.clone(),
        _ => {
            findings.push(Finding::new(
                "SCU-WARN-002",
                format!("/annotations/{}", POLICY_ANNOTATION.replace('/', "~1")),
                format!("{asked:?} is not stricter than the host policy {:?}", host.name),
            ));
            host.clone()
        }
    }
}

/// Decides what `spec` may be under `host`: the effective config and every finding.
pub fn evaluate(spec: &Spec, host: &Policy, ctx: &Context) -> Evaluation {
    let mut findings = Vec::new();
    let policy = effective_policy(spec, host, &mut findings);
    if !policy.refuse && !policy.adjust {
        findings.push(Finding::new("SCU-WARN-001", "", format!("policy {}", policy.name)));
        return Evaluation {
            policy: policy.name,
            spec: spec.clone(),
            findings,
            userns: UsernsPlan::default(),
        };
    }
    let (effective, userns) = if policy.adjust {
        adjust::apply(spec, &policy, ctx, &mut findings)
    } else {
        (spec.clone(), UsernsPlan::default())
    };
    if policy.refuse {
        refuse::check(spec, &effective, &policy, ctx, &mut findings);
    }
    Evaluation { policy: policy.name, spec: effective, findings, userns }
}

#[cfg(test)]
mod tests;
