//! scutum against runc and crun on identical bundles, in one run: every lifecycle operation,
//! runtimes alternated round by round, medians, ratios, peak RSS. See benches/README.md.
//!
//! `cargo bench --bench compare [-- --quick]` (as root), or `benches/run.sh [--quick]`, which
//! also installs runc, crun and busybox-static. Quick mode runs every operation a few times
//! and fails only if an operation errors; nothing ever fails on a time.
//!
//! The driver re-executes itself under `unshare --mount --propagation private` so that crun's
//! hybrid-cgroup workaround (an empty file bind-mounted over one cgroupfs file) stays out of
//! the host's mount table, and every runtime (crun included) is then spawned directly.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod report;
mod runtime;
mod scenarios;
mod setup;
mod spawn;

use runtime::Runtime;
use scenarios::{Bench, Settings};
use setup::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the re-executed driver that runs inside the private mount namespace.
const INNER: &str = "SCUTUM_BENCH_INNER";

const USAGE: &str = "\
usage: cargo bench --bench compare [-- --quick]   (as root; or benches/run.sh [--quick])

  --quick                  few rounds, small churn: a smoke test for CI (or SCUTUM_BENCH_QUICK=1)
environment:
  SCUTUM_BIN               scutum binary to measure (default: the one cargo just built)
  RUNC, CRUN               runc / crun binaries (default: found on PATH)
  SCUTUM_BENCH_ROUNDS      measured rounds per operation (default 100, quick 5)
  SCUTUM_BENCH_CHURN       containers in the churn scenario (default 200, quick 20)
  SCUTUM_BENCH_OUT         output directory (default target/bench-results)
  SCUTUM_VARIANTS          extra scutum builds measured alongside, with --policy unconfined:
                           NAME=PATH[,NAME=PATH...] (e.g. musl=target/x86_64-unknown-linux-musl/release/scutum)";

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn settings(args: &[String]) -> Settings {
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("SCUTUM_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let rounds = env_usize("SCUTUM_BENCH_ROUNDS").unwrap_or(if quick { 5 } else { 100 }).max(1);
    let churn = env_usize("SCUTUM_BENCH_CHURN").unwrap_or(if quick { 20 } else { 200 }).max(2);
    Settings { quick, rounds, warmup: if quick { 1 } else { 5 }, churn, window: (churn / 2).min(20) }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Runs this same binary again inside a private mount namespace; returns its exit code.
fn reexec_in_private_mount_ns(args: &[String]) -> Result<i32> {
    let unshare = setup::which("unshare")?;
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let status = Command::new(unshare)
        .args(["--mount", "--propagation", "private", "--"])
        .arg(me)
        .args(args)
        .env(INNER, "1")
        .status()
        .map_err(|e| format!("unshare: {e}"))?;
    Ok(status.code().unwrap_or(1))
}

fn binary(env: &str, name: &str) -> Result<PathBuf> {
    match std::env::var_os(env) {
        Some(p) => Ok(PathBuf::from(p)),
        None => setup::which(name),
    }
}

/// SCUTUM_VARIANTS: `NAME=PATH,...`, extra scutum binaries (build experiments) to measure.
fn parse_variants() -> Result<Vec<(String, PathBuf)>> {
    let Ok(text) = std::env::var("SCUTUM_VARIANTS") else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for item in text.split(',').filter(|s| !s.trim().is_empty()) {
        let (name, path) =
            item.split_once('=').ok_or_else(|| format!("SCUTUM_VARIANTS: {item:?} is not NAME=PATH"))?;
        let path = std::fs::canonicalize(path).map_err(|e| format!("SCUTUM_VARIANTS: {path}: {e}"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || out.len() >= 20
        {
            return Err(format!("SCUTUM_VARIANTS: bad or too many names at {name:?}"));
        }
        out.push((name.to_string(), path));
    }
    Ok(out)
}

/// Builds the bundles and runtimes. Everything it creates lives under `work`.
fn prepare(work: &Path, settings: Settings) -> Result<(Bench, serde_json::Value)> {
    let mut notes = Vec::new();
    notes.extend(setup::hide_unified_controllers(work)?);
    let roots = work.join("roots");
    notes.push(setup::tmpfs_roots(&roots)?);
    let runc = binary("RUNC", "runc")?;
    let crun = binary("CRUN", "crun")?;
    let scutum = std::env::var_os("SCUTUM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_scutum")));
    let rootfs = setup::make_rootfs(work)?;
    let spec = setup::runc_spec(&runc, work)?;
    let bundle = |name, args: &[&str]| {
        setup::make_bundle(work, name, &spec, &rootfs, args).map(|p| p.to_string_lossy().into_owned())
    };
    let bundle_true = bundle("bundle-true", &["/bin/true"])?;
    let bundle_sleep = bundle("bundle-sleep", &["/bin/sleep", "86400"])?;
    let machine = setup::machine(&runc, &crun, &scutum);
    let mut rts = vec![
        Runtime::new("runc", 'r', runc, &roots, &[]),
        Runtime::new("crun", 'c', crun, &roots, &[]),
        Runtime::new("scutum", 's', scutum.clone(), &roots, &["--policy", "unconfined"]),
        Runtime::new("scutum-hardened", 'h', scutum, &roots, &[]),
    ];
    let mut variants = Vec::new();
    for (k, (name, path)) in parse_variants()?.into_iter().enumerate() {
        // Digits: unique against r, c, s, h (ids of all runtimes exist side by side, and runc
        // and crun name cgroups after them).
        let tag = char::from_digit(u32::try_from(k).unwrap_or(u32::MAX), 10)
            .ok_or("more than 10 SCUTUM_VARIANTS")?;
        variants.push(rts.len());
        rts.push(Runtime::new(&format!("scutum-{name}"), tag, path, &roots, &["--policy", "unconfined"]));
    }
    notes.push(
        "scutum = `--policy unconfined` (runc semantics); scutum-hardened = no --policy flag \
         (the hardened default), on the same plain runc-spec bundle"
            .into(),
    );
    let bench = Bench {
        rts,
        variants,
        settings,
        prefix: format!("sb{}", std::process::id()),
        work: work.to_path_buf(),
        rootfs,
        bundle_true,
        bundle_sleep,
        ops: Vec::new(),
        floors: Vec::new(),
        churn: None,
        notes,
    };
    Ok((bench, machine))
}

fn measure(b: &mut Bench) -> Result<()> {
    b.floors()?;
    b.run_true()?;
    b.settle();
    b.lifecycle()?;
    b.settle();
    b.running_container()?;
    b.settle();
    b.delete_force()?;
    b.settle();
    b.churn()
}

/// Force-deletes whatever is left, removes the work directory, and reports anything that
/// could not be cleaned up.
fn cleanup(b: Option<&Bench>, work: &Path, prefix: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(b) = b {
        for rt in &b.rts {
            problems.extend(rt.delete_all());
        }
    }
    // Our own tmpfs for the state roots goes first; any other mount left is a runtime's leak.
    let _ = std::process::Command::new("umount").arg(work.join("roots")).status();
    let mounts = setup::mounts_under(work);
    if !mounts.is_empty() {
        problems.push(format!("mounts left under {}: {mounts:?}", work.display()));
    } else if let Err(e) = std::fs::remove_dir_all(work) {
        problems.push(format!("cannot remove {}: {e}", work.display()));
    }
    for cg in setup::remove_leftover_cgroups(&format!("{prefix}-")) {
        problems.push(format!("a runtime left cgroup {cg} behind (removed)"));
    }
    problems
}

fn write_outputs(b: &Bench, machine: &serde_json::Value) -> Result<()> {
    let out = std::env::var_os("SCUTUM_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let stem = if b.settings.quick { "compare-quick" } else { "compare" };
    let md = b.markdown(machine);
    let json = serde_json::to_string_pretty(&b.json(machine)).map_err(|e| e.to_string())?;
    let (md_path, json_path) = (out.join(format!("{stem}.md")), out.join(format!("{stem}.json")));
    std::fs::write(&md_path, &md).map_err(|e| format!("{}: {e}", md_path.display()))?;
    std::fs::write(&json_path, json + "\n").map_err(|e| format!("{}: {e}", json_path.display()))?;
    println!("{md}");
    eprintln!("[compare] wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}

fn inner(args: &[String]) -> Result<()> {
    let settings = settings(args);
    let prefix = format!("sb{}", std::process::id());
    let work = PathBuf::from(format!("/run/scutum-bench-{}", std::process::id()));
    std::fs::create_dir(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let (mut bench, mut machine) = match prepare(&work, settings) {
        Ok(x) => x,
        Err(e) => {
            cleanup(None, &work, &prefix);
            return Err(e);
        }
    };
    let cpu = setup::CpuSnapshot::now();
    let procs = setup::ProcSnapshot::now();
    let measured = measure(&mut bench);
    let others = cpu.others_share_since();
    let top: Vec<String> = procs.top_others(4).iter().map(|(c, t)| format!("{c} {t:.1} s")).collect();
    machine["load_after"] = setup::loadavg().into();
    machine["cpu_used_by_others"] = format!(
        "{:.0}% of all CPUs during the run (most: {})",
        others * 100.0,
        if top.is_empty() { "none".into() } else { top.join(", ") }
    )
    .into();
    if others > 0.1 {
        bench.notes.push(format!(
            "other work used {:.0}% of the machine's CPU time during the run (see cpu_used_by_others): \
             if that is more than the runtimes' own kernel work, numbers are noisier than on an idle machine",
            others * 100.0
        ));
    }
    let problems = cleanup(Some(&bench), &work, &prefix);
    for p in &problems {
        eprintln!("[compare] cleanup: {p}");
    }
    measured?;
    if !problems.is_empty() {
        return Err(format!("{} cleanup problem(s), see above", problems.len()));
    }
    write_outputs(&bench, &machine)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    // `cargo test --all-targets` runs bench binaries without --bench: start no containers then.
    if std::env::var_os(INNER).is_none() && !args.iter().any(|a| a == "--bench") {
        println!(
            "compare: not a bench run (use `cargo bench --bench compare` or benches/run.sh); nothing done"
        );
        return;
    }
    let result = if !is_root() {
        Err("must run as root (runc, crun and scutum create namespaces and mounts)".to_string())
    } else if std::env::var_os(INNER).is_none() {
        match reexec_in_private_mount_ns(&args) {
            Ok(code) => std::process::exit(code),
            Err(e) => Err(e),
        }
    } else {
        inner(&args)
    };
    if let Err(e) = result {
        eprintln!("[compare] error: {e}");
        std::process::exit(1);
    }
}
