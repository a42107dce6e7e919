//! The cgroup v2 manager (DESIGN.md §4): one cgroup per container, created before the init and
//! entered by it at clone time (CLONE_INTO_CGROUP), with every `linux.resources` field applied
//! or the create refused. A limit that is not enforced is worse than none.
//!
//! The lifecycle, in the order `create` uses it:
//! 1. [`prepare`] (no side effects): plan the writes ([`resources`]), map `linux.cgroupsPath`
//!    ([`path`]), find the v2 hierarchy ([`hierarchy`]) and check that it offers every
//!    controller the plan needs. A missing controller fails here, naming the field and the
//!    controller, unless the host policy allows unenforced limits ([`Options::allow_unenforced`]).
//! 2. [`Setup::create`]: create the leaf and the missing parents, enable exactly the needed
//!    controllers in the ancestors' `cgroup.subtree_control`, write the limits, attach the device
//!    filter ([`devices`]). Its directory fd goes to clone3.
//! 3. Later commands act on the recorded path: [`freezer`] (pause, resume), [`signal_all`] and
//!    [`kill_all`] (kill --all, delete --force), [`pids`] (ps), [`stats`] (events),
//!    [`update_resources`] (update).
//! 4. [`remove`]: kill what is left, remove the leaf and the parents scutum created, when empty.
//!
//! With no limits asked for, the container still gets a cgroup wherever a v2 hierarchy is
//! mounted (on a hybrid v1/v2 host, the controller-less /sys/fs/cgroup/unified), so pause,
//! resume, ps and kill --all work there too. The v1 hierarchies are never touched.

pub mod devices;
pub mod freezer;
pub mod hierarchy;
mod manager;
pub mod path;
pub mod resources;
pub mod stats;

pub use hierarchy::Hierarchy;
pub use manager::{kill_all, pids, remove, signal_all, Cgroup};

use crate::log;
use oci_spec::runtime::{LinuxResources, Spec};
use resources::Plan;
use std::path::{Path, PathBuf};

/// A cgroup v2 controller (or `Core`, the `cgroup.*` files every cgroup has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Controller {
    Core,
    Cpu,
    Cpuset,
    Io,
    Memory,
    Pids,
    Hugetlb,
    Rdma,
    Misc,
}

impl Controller {
    pub fn name(self) -> &'static str {
        match self {
            Controller::Core => "cgroup",
            Controller::Cpu => "cpu",
            Controller::Cpuset => "cpuset",
            Controller::Io => "io",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Hugetlb => "hugetlb",
            Controller::Rdma => "rdma",
            Controller::Misc => "misc",
        }
    }

    /// A controller by its name in `cgroup.controllers` (not `cgroup`, which is no controller).
    pub fn from_name(s: &str) -> Option<Controller> {
        Some(match s {
            "cpu" => Controller::Cpu,
            "cpuset" => Controller::Cpuset,
            "io" => Controller::Io,
            "memory" => Controller::Memory,
            "pids" => Controller::Pids,
            "hugetlb" => Controller::Hugetlb,
            "rdma" => Controller::Rdma,
            "misc" => Controller::Misc,
            _ => return None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// The config asks for something cgroup v2 cannot do, or says it badly.
    #[error("{field}: {reason}")]
    Config { field: String, reason: String },
    #[error("{field}: the {controller} controller is not available on the cgroup v2 hierarchy at {}", mount.display())]
    Missing { field: String, controller: &'static str, mount: PathBuf },
    #[error("{field}: no cgroup v2 hierarchy is mounted on this host (scutum does not manage cgroup v1), so it cannot be enforced")]
    NoHierarchy { field: String },
    #[error("{field}: cannot write {value:?} to {}: {source}", file.display())]
    Write { field: String, file: PathBuf, value: String, source: std::io::Error },
    #[error("cannot {action} {}: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("cgroup {} already holds processes: it cannot be the cgroup of a new container", path.display())]
    Busy { path: PathBuf },
    #[error("linux.resources.devices: cannot {what} the device filter for {}: {source}", path.display())]
    Bpf { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("container {id} has no cgroup (no cgroup v2 hierarchy was usable when it was created): {what} needs one")]
    NoCgroup { id: String, what: &'static str },
    #[error("cgroup {}: {reason}", path.display())]
    State { path: PathBuf, reason: String },
}

impl CgroupError {
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CgroupError::Config { field: field.into(), reason: reason.into() }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CgroupError::Io { action, path: path.into(), source }
    }
}

/// What `create` knows about the container's cgroup beyond the config.
pub struct Options<'a> {
    pub id: &'a str,
    /// `--systemd-cgroup`: `linux.cgroupsPath` is `slice:prefix:name` (see [`path`]).
    pub systemd: bool,
    /// Policy hook: when the host cannot enforce a requested limit (a controller missing from
    /// the v2 hierarchy, no v2 hierarchy at all), run without it and log a warning per field
    /// instead of refusing the container. The host policy decides; the default is `false`.
    pub allow_unenforced: bool,
    /// Where procfs is (a seam for tests), normally /proc.
    pub proc: &'a Path,
}

/// Everything decided before the first side effect.
pub struct Setup {
    hierarchy: Option<Hierarchy>,
    location: path::Location,
    plan: Plan,
}

/// Plans the container's cgroup from `spec` and checks that this host can enforce it.
pub fn prepare(spec: &Spec, opts: &Options) -> Result<Setup, CgroupError> {
    let linux = spec.linux().as_ref();
    let nodes = linux.and_then(|l| l.devices().as_deref()).unwrap_or_default();
    let mut plan = resources::plan(linux.and_then(|l| l.resources().as_ref()), Some(nodes))?;
    for field in &plan.ignored {
        log::debug(&format!("ignored on cgroup v2: {field}"));
    }
    let hierarchy = Hierarchy::detect(opts.proc)?;
    let own = hierarchy.as_ref().map(|h| h.own.clone()).unwrap_or_default();
    let cgroups_path = linux.and_then(|l| l.cgroups_path().as_ref()).and_then(|p| p.to_str());
    let location = path::locate(cgroups_path, opts.id, opts.systemd, &own)?;
    check_enforceable(&mut plan, hierarchy.as_ref(), opts.allow_unenforced)?;
    Ok(Setup { hierarchy, location, plan })
}

/// Fails closed on anything the host cannot enforce, or (policy permitting) drops it with a
/// warning naming the field. A value that sets no limit ("max") needs no enforcement: it is
/// dropped quietly when its controller is missing, so `-1` works on any host.
fn check_enforceable(plan: &mut Plan, h: Option<&Hierarchy>, allow: bool) -> Result<(), CgroupError> {
    let available = match h {
        Some(h) => h.controllers()?,
        None => Default::default(),
    };
    let missing =
        |w: &resources::Write| w.controller != Controller::Core && !available.contains(&w.controller);
    plan.writes.retain(|w| {
        let drop = (missing(w) || h.is_none()) && w.sets_no_limit();
        if drop {
            log::debug(&format!("{}: {} needs no enforcement", w.field, w.value));
        }
        !drop
    });
    let Some(h) = h else {
        if plan.is_empty() {
            return Ok(());
        }
        let field = plan.writes.first().map_or("linux.resources.devices".to_string(), |w| w.field.clone());
        if !allow {
            return Err(CgroupError::NoHierarchy { field });
        }
        log::warn(&format!("{field}: not enforced: no cgroup v2 hierarchy (allowed by the host policy)"));
        plan.writes.clear();
        plan.devices = None;
        return Ok(());
    };
    if let Some(w) = plan.writes.iter().find(|w| missing(w)) {
        if !allow {
            let (field, controller) = (w.field.clone(), w.controller.name());
            return Err(CgroupError::Missing { field, controller, mount: h.mount.clone() });
        }
    }
    for w in plan.writes.iter().filter(|w| missing(w)) {
        log::warn(&format!(
            "{}: not enforced: the {} controller is not available at {} (allowed by the host policy)",
            w.field,
            w.controller.name(),
            h.mount.display()
        ));
    }
    plan.writes.retain(|w| !missing(w));
    Ok(())
}

/// Whether a pids limit would be enforced on this host: the policy adds its default pids limit
/// only then (a default the host cannot enforce is reported, not silently claimed).
pub fn pids_enforceable(proc: &Path) -> bool {
    matches!(Hierarchy::detect(proc), Ok(Some(h)) if h.controllers().is_ok_and(|c| c.contains(&Controller::Pids)))
}

impl Setup {
    /// Creates the cgroup and applies the plan. `None` when there is no v2 hierarchy, or when
    /// nothing is enforced and the hierarchy is not writable for us (rootless, a read-only
    /// cgroupfs): tracking is then given up, as runc does, with a debug log.
    pub fn create(&self) -> Result<Option<Cgroup>, CgroupError> {
        let Some(h) = &self.hierarchy else { return Ok(None) };
        let needs = self.plan.needs();
        let cg = match Cgroup::create(h, &self.location, &needs) {
            Ok(cg) => cg,
            Err(CgroupError::Io { source, .. } | CgroupError::Write { source, .. })
                if self.plan.is_empty()
                    && matches!(source.raw_os_error(), Some(libc::EACCES | libc::EPERM | libc::EROFS)) =>
            {
                log::debug(&format!("no cgroup for the container (nothing to enforce): {source}"));
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if let Err(e) = self.fill(&cg) {
            let _ = remove(&cg.path, cg.owned_parents);
            return Err(e);
        }
        Ok(Some(cg))
    }

    fn fill(&self, cg: &Cgroup) -> Result<(), CgroupError> {
        cg.apply(&self.plan.writes)?;
        let Some(rules) = &self.plan.devices else { return Ok(()) };
        match cg.attach_devices(rules) {
            Err(e) if !self.plan.devices_requested => {
                log::debug(&format!(
                    "default device filter not attached (the config has no device rules): {e}"
                ));
                Ok(())
            }
            other => other,
        }
    }
}

/// `update`: applies `resources` (the container's whole resources, already merged with the
/// changes) to its cgroup at `path`, failing closed like create. Device rules are left as they
/// are, as runc does.
pub fn update_resources(path: &Path, resources: &LinuxResources, proc: &Path) -> Result<(), CgroupError> {
    let mut plan = resources::plan(Some(resources), None)?;
    let h = Hierarchy::detect(proc)?
        .ok_or_else(|| CgroupError::NoHierarchy { field: "linux.resources".into() })?;
    check_enforceable(&mut plan, Some(&h), false)?;
    manager::update(&h, path, &plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan_of(v: serde_json::Value) -> Plan {
        let r: LinuxResources = serde_json::from_value(v).unwrap();
        resources::plan(Some(&r), Some(&[])).unwrap()
    }

    /// A hierarchy root offering only `controllers`.
    fn fake(name: &str, controllers: &str) -> Hierarchy {
        let p = std::env::temp_dir().join(format!("scutum-enf-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("cgroup.controllers"), controllers).unwrap();
        Hierarchy::at(p, "")
    }

    #[test]
    fn a_missing_controller_fails_closed_naming_field_controller_and_mount() {
        let h = fake("missing", "hugetlb\n");
        let mut p = plan_of(json!({"memory": {"limit": 1048576}}));
        let e = check_enforceable(&mut p, Some(&h), false).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "linux.resources.memory.limit: the memory controller is not available on the cgroup v2 hierarchy at {}",
                h.mount.display()
            )
        );
        std::fs::remove_dir_all(&h.mount).unwrap();
    }

    #[test]
    fn no_limit_needs_no_controller() {
        let h = fake("nolimit", "");
        let mut p = plan_of(json!({"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}}));
        check_enforceable(&mut p, Some(&h), false).unwrap();
        assert!(p.writes.is_empty(), "{:?}", p.writes);
        let mut p = plan_of(json!({"pids": {"limit": -1}}));
        check_enforceable(&mut p, None, false).unwrap();
        std::fs::remove_dir_all(&h.mount).unwrap();
    }

    #[test]
    fn the_policy_hook_drops_only_what_cannot_be_enforced() {
        let h = fake("allow", "pids\n");
        let mut p = plan_of(json!({"memory": {"limit": 1048576}, "pids": {"limit": 5}}));
        check_enforceable(&mut p, Some(&h), true).unwrap();
        let files: Vec<&str> = p.writes.iter().map(|w| w.file.as_str()).collect();
        assert_eq!(files, ["pids.max"]);
        std::fs::remove_dir_all(&h.mount).unwrap();
    }

    #[test]
    fn without_a_v2_hierarchy_device_rules_fail_closed_unless_allowed() {
        let mut p = plan_of(json!({"devices": [{"allow": false, "access": "rwm"}]}));
        let e = check_enforceable(&mut p, None, false).unwrap_err().to_string();
        assert!(e.starts_with("linux.resources.devices: no cgroup v2 hierarchy"), "{e}");
        check_enforceable(&mut p, None, true).unwrap();
        assert!(p.devices.is_none());
        let mut p = plan_of(json!({}));
        check_enforceable(&mut p, None, false).unwrap();
    }
}
