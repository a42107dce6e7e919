//! criterion micro-benchmarks of the in-process hot paths every CLI call pays for:
//! config parse, state load, seccomp compilation and policy evaluation.
//!
//! `cargo bench --bench micro`. Needs no root and starts no containers.

use criterion::{criterion_group, criterion_main, Criterion};
use oci_spec::runtime::{LinuxSeccomp, Spec};
use scutum::container::{Container, State, StateDir, Status};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

/// `runc spec` (runc 1.1.5) with args ["/bin/true"] and terminal false: what `create` parses.
const RUNC_SPEC: &str = include_str!("fixtures/runc-spec-config.json");
/// An OCI seccomp profile shaped like containerd's default (273 allowed names, argument rules).
const SECCOMP_FIXTURE: &str = include_str!("fixtures/seccomp-profile.json");

/// The project's default profile once it exists (profiles/seccomp-default.json), else the
/// fixture, so the bench measures what the runtime really compiles as soon as it can.
fn seccomp_profile() -> (String, &'static str) {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/seccomp-default.json");
    match std::fs::read_to_string(real) {
        Ok(text) => (text, "profiles/seccomp-default.json"),
        Err(_) => (SECCOMP_FIXTURE.to_string(), "benches/fixtures/seccomp-profile.json"),
    }
}

fn config_parse(c: &mut Criterion) {
    let path = Path::new("config.json");
    c.bench_function("config parse: runc spec (spec::parse_json)", |b| {
        b.iter(|| scutum::spec::parse_json::<Spec>(path, black_box(RUNC_SPEC.as_bytes())).expect("parses"))
    });
    // What containerd hands a runtime: the same config with a full seccomp profile inside.
    let (profile, _) = seccomp_profile();
    let mut with_seccomp: serde_json::Value = serde_json::from_str(RUNC_SPEC).expect("fixture");
    with_seccomp["linux"]["seccomp"] = serde_json::from_str(&profile).expect("profile");
    let bytes = serde_json::to_vec(&with_seccomp).expect("json");
    c.bench_function("config parse: runc spec + seccomp profile", |b| {
        b.iter(|| scutum::spec::parse_json::<Spec>(path, black_box(&bytes)).expect("parses"))
    });
}

/// A runtime root in a temp dir holding one container's state.json; removed on drop.
struct TempRoot(PathBuf);

impl TempRoot {
    fn with_container(id: &str) -> TempRoot {
        let root = std::env::temp_dir().join(format!("scutum-micro-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let pid = std::process::id() as i32;
        let start = scutum::container::proc_start_time(Path::new("/proc"), pid).map_or(0, |(_, s)| s);
        let state = State {
            oci_version: "1.0.2-dev".into(),
            id: id.into(),
            status: Status::Running,
            pid,
            pid_start: start,
            bundle: "/run/bundles/micro".into(),
            rootfs: "/run/bundles/micro/rootfs".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            annotations: BTreeMap::from([("io.kubernetes.cri.container-type".into(), "container".into())]),
            owner: String::new(),
            cgroup: None,
            uid_range: None,
            policy: "hardened".into(),
            paused: false,
            poststart: Vec::new(),
            poststop: Vec::new(),
            cgroup_owned_parents: 0,
        };
        let dir = StateDir::create(&root, id).expect("state dir");
        dir.save(&state).expect("save state");
        TempRoot(root)
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn state_load(c: &mut Criterion) {
    let root = TempRoot::with_container("micro");
    c.bench_function("state load (Container::load)", |b| {
        b.iter(|| Container::load(black_box(&root.0), "micro").expect("loads"))
    });
    // All of `scutum state` after argument parsing: load, derive the status from /proc (this
    // bench's own pid stands in for the init), build the JSON.
    c.bench_function("state load + status + state JSON", |b| {
        b.iter(|| {
            let ct = Container::load(black_box(&root.0), "micro").expect("loads");
            serde_json::to_string_pretty(&ct.state_json()).expect("json")
        })
    });
}

fn seccomp_compile(c: &mut Criterion) {
    let (text, source) = seccomp_profile();
    let profile: LinuxSeccomp = serde_json::from_str(&text).expect("profile parses");
    c.bench_function(&format!("seccomp compile ({source})"), |b| {
        b.iter(|| scutum::seccomp::compile(black_box(&profile)).expect("compiles"))
    });
}

/// What every create pays before any side effect: parse, validate, evaluate under the hardened
/// preset (which also injects the default seccomp profile).
fn policy_evaluate(c: &mut Criterion) {
    let spec: oci_spec::runtime::Spec = serde_json::from_str(RUNC_SPEC).expect("runc spec parses");
    let host = scutum::policy::Policy::preset("hardened").expect("preset");
    let ctx = scutum::policy::Context { rootfs: "/run/bundles/micro/rootfs".into(), ..Default::default() };
    c.bench_function("policy evaluate (hardened, runc spec)", |b| {
        b.iter(|| scutum::policy::evaluate(black_box(&spec), black_box(&host), black_box(&ctx)))
    });
}

criterion_group!(benches, config_parse, state_load, seccomp_compile, policy_evaluate);
criterion_main!(benches);
