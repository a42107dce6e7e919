//! The measured operations. Each scenario runs in rounds; every round calls each runtime once,
//! in an order rotated by one per round (so no runtime always goes first or always follows the
//! same one), and the first `warmup` rounds are discarded.

use crate::runtime::Runtime;
use crate::setup::Result;
use crate::spawn::{run_timed, Timed};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One measurement of one runtime process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub ms: f64,
    pub rss_kib: u64,
}

impl From<Timed> for Sample {
    fn from(t: Timed) -> Sample {
        Sample { ms: t.elapsed.as_secs_f64() * 1e3, rss_kib: t.maxrss_kib }
    }
}

/// An operation's samples, one list per runtime (same order as `Bench::rts`).
pub struct Op {
    pub key: String,
    pub label: String,
    pub samples: Vec<Vec<Sample>>,
    /// Why a runtime was not measured (e.g. no `exec` subcommand yet).
    pub skipped: Vec<Option<String>>,
}

/// The churn series: per runtime, per container in creation order.
pub struct Churn {
    pub create_start: Vec<Vec<Sample>>,
    pub delete_force: Vec<Vec<Sample>>,
}

pub struct Settings {
    pub quick: bool,
    /// Measured rounds per operation.
    pub rounds: usize,
    /// Discarded rounds before each operation.
    pub warmup: usize,
    /// Containers alive at once in the churn scenario.
    pub churn: usize,
    /// How many containers the first/last churn windows hold.
    pub window: usize,
}

pub struct Bench {
    pub rts: Vec<Runtime>,
    /// Indices in `rts` of extra scutum builds (SCUTUM_VARIANTS).
    pub variants: Vec<usize>,
    pub settings: Settings,
    /// Unique to this run; starts every container id (and so every cgroup a runtime creates).
    pub prefix: String,
    pub work: PathBuf,
    pub rootfs: PathBuf,
    pub bundle_true: String,
    pub bundle_sleep: String,
    pub ops: Vec<Op>,
    pub floors: Vec<(String, Vec<Sample>)>,
    pub churn: Option<Churn>,
    pub notes: Vec<String>,
}

const NAMESPACES_FLOOR: &str = "unshare (user,pid,mnt,uts,ipc,net) + chroot + /bin/true";

/// Waits until `pid` has exited (gone from /proc, or a zombie its reaper has not collected).
fn wait_exited(pid: i32) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return Ok(()),
            Ok(s) if s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with(['Z', 'X'])) => {
                return Ok(())
            }
            Ok(_) if Instant::now() > deadline => return Err(format!("container init {pid} did not exit")),
            Ok(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
}

fn read_pid(path: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.trim().parse().map_err(|e| format!("{}: {text:?}: {e}", path.display()))
}

impl Bench {
    /// Round `i`'s runtime order: the runtime list rotated by `i`.
    fn order(&self, i: usize) -> Vec<usize> {
        let n = self.rts.len();
        (0..n).map(|k| (k + i) % n).collect()
    }

    fn id(&self, r: usize, op: &str, i: usize) -> String {
        format!("{}-{}-{op}-{i}", self.prefix, self.rts[r].tag)
    }

    fn new_op(&mut self, key: &str, label: &str) -> usize {
        let n = self.rts.len();
        self.ops.push(Op {
            key: key.into(),
            label: label.into(),
            samples: vec![Vec::new(); n],
            skipped: vec![None; n],
        });
        self.ops.len() - 1
    }

    fn total_rounds(&self) -> usize {
        self.settings.warmup + self.settings.rounds
    }

    fn progress(&self, what: &str) {
        eprintln!("[compare] {what}");
    }

    /// Every scenario must leave each runtime's root empty.
    fn expect_empty(&self, scenario: &str) -> Result<()> {
        for rt in &self.rts {
            let ids = rt.ids();
            if !ids.is_empty() {
                return Err(format!("{}: {scenario} left containers behind: {ids:?}", rt.name));
            }
        }
        Ok(())
    }

    /// A pause between scenarios (full mode): the kernel tears down the last scenario's
    /// network namespaces and mounts asynchronously, and that work should not land on the next
    /// scenario's first calls.
    pub fn settle(&self) {
        if !self.settings.quick {
            std::thread::sleep(Duration::from_secs(3));
        }
    }

    /// The namespace floor: what creating the namespaces alone costs (no runtime).
    fn namespaces_floor(&self) -> Result<Command> {
        let mut cmd = Command::new(crate::setup::which("unshare")?);
        // -r maps root: without a mapping, chroot loses its capabilities across execve.
        cmd.args(["--user", "--map-root-user", "--pid", "--mount", "--uts", "--ipc", "--net", "--fork"]);
        cmd.arg("chroot").arg(&self.rootfs).arg("/bin/true");
        Ok(cmd)
    }

    /// Runs each command `rounds` times, alternating, and returns their samples.
    fn measure_floors(&self, cmds: &mut [(String, Command)], rounds: usize) -> Result<Vec<Vec<Sample>>> {
        let n = cmds.len();
        let mut out = vec![Vec::new(); n];
        for round in 0..self.settings.warmup + rounds {
            for k in (0..n).map(|k| (k + round) % n) {
                let (label, cmd) = &mut cmds[k];
                cmd.stdin(Stdio::null()).stdout(Stdio::null());
                let t = run_timed(cmd).map_err(|e| format!("floor {label}: {e}"))?;
                if !t.status.success() {
                    return Err(format!("floor {label}: {}", t.status));
                }
                if round >= self.settings.warmup {
                    out[k].push(t.into());
                }
            }
        }
        Ok(out)
    }

    /// Reference points: the cost of spawning any process, and of the namespaces alone.
    pub fn floors(&mut self) -> Result<()> {
        self.progress("floors");
        let mut cmds = [
            ("fork+exec /bin/true".to_string(), Command::new("/bin/true")),
            (NAMESPACES_FLOOR.to_string(), self.namespaces_floor()?),
        ];
        let samples = self.measure_floors(&mut cmds, self.settings.rounds)?;
        self.floors = cmds.into_iter().map(|(l, _)| l).zip(samples).collect();
        Ok(())
    }

    /// `run` of /bin/true: create, start, wait and delete in one call.
    pub fn run_true(&mut self) -> Result<()> {
        self.progress("run /bin/true");
        let op = self.new_op("run", "run /bin/true");
        for round in 0..self.total_rounds() {
            for r in self.order(round) {
                let id = self.id(r, "run", round);
                let t = self.rts[r].call(&["run", "-b", &self.bundle_true, &id])?;
                if round >= self.settings.warmup {
                    self.ops[op].samples[r].push(t.into());
                }
            }
        }
        self.expect_empty("run")
    }

    /// create, start and delete as separate CLI calls (as containerd's shim makes them); the
    /// container runs /bin/true, and delete is called once it has exited.
    pub fn lifecycle(&mut self) -> Result<()> {
        self.progress("create / start / delete");
        let create = self.new_op("create", "create");
        let start = self.new_op("start", "start");
        let delete = self.new_op("delete", "delete (stopped container)");
        for round in 0..self.total_rounds() {
            for r in self.order(round) {
                let id = self.id(r, "life", round);
                let pid_file = self.work.join(format!("{id}.pid"));
                let pf = pid_file.to_string_lossy().into_owned();
                let rt = &self.rts[r];
                let tc = rt.call(&["create", "-b", &self.bundle_true, "--pid-file", &pf, &id])?;
                let pid = read_pid(&pid_file)?;
                let ts = rt.call(&["start", &id])?;
                wait_exited(pid)?;
                let td = rt.call(&["delete", &id])?;
                let _ = std::fs::remove_file(&pid_file);
                if round >= self.settings.warmup {
                    self.ops[create].samples[r].push(tc.into());
                    self.ops[start].samples[r].push(ts.into());
                    self.ops[delete].samples[r].push(td.into());
                }
            }
        }
        self.expect_empty("create/start/delete")
    }

    fn create_running(&self, r: usize, id: &str) -> Result<(Timed, Timed)> {
        let tc = self.rts[r].call(&["create", "-b", &self.bundle_sleep, id])?;
        let ts = self.rts[r].call(&["start", id])?;
        Ok((tc, ts))
    }

    /// exec, state and list against one running container per runtime.
    pub fn running_container(&mut self) -> Result<()> {
        self.progress("exec / state / list (1 container)");
        let ids: Vec<String> = (0..self.rts.len()).map(|r| self.id(r, "live", 0)).collect();
        for (r, id) in ids.iter().enumerate() {
            self.create_running(r, id)?;
        }
        let exec = self.new_op("exec", "exec /bin/true (running container)");
        for r in 0..self.rts.len() {
            if !self.rts[r].has_exec {
                let note =
                    format!("{} has no exec subcommand yet: exec not measured for it", self.rts[r].name);
                eprintln!("[compare] note: {note}");
                self.notes.push(note);
                self.ops[exec].skipped[r] = Some("no exec subcommand yet".into());
            }
        }
        let state = self.new_op("state", "state");
        let list = self.new_op("list1", "list (1 container)");
        for (op, args) in
            [(exec, &["exec", "", "/bin/true"][..]), (state, &["state", ""][..]), (list, &["list"][..])]
        {
            for round in 0..self.total_rounds() {
                for r in self.order(round) {
                    if self.ops[op].skipped[r].is_some() {
                        continue;
                    }
                    let args: Vec<&str> =
                        args.iter().map(|a| if a.is_empty() { ids[r].as_str() } else { a }).collect();
                    let t = self.rts[r].call(&args)?;
                    if round >= self.settings.warmup {
                        self.ops[op].samples[r].push(t.into());
                    }
                }
            }
        }
        for (r, id) in ids.iter().enumerate() {
            self.rts[r].call(&["delete", "-f", id])?;
        }
        self.expect_empty("exec/state/list")
    }

    /// delete -f of a container whose init (sleep) is running.
    pub fn delete_force(&mut self) -> Result<()> {
        self.progress("delete -f (running container)");
        let op = self.new_op("delete_force", "delete -f (running container)");
        for round in 0..self.total_rounds() {
            for r in self.order(round) {
                let id = self.id(r, "kill", round);
                self.create_running(r, &id)?;
                let t = self.rts[r].call(&["delete", "-f", &id])?;
                if round >= self.settings.warmup {
                    self.ops[op].samples[r].push(t.into());
                }
            }
        }
        self.expect_empty("delete -f")
    }

    /// Per runtime, on its own: `churn` containers created and started one after the other (all
    /// left running), `list` with all of them, the namespace floor with them alive, then all
    /// force-deleted in creation order. Per-container cost at the start and at the end shows
    /// whether a runtime slows down as its containers accumulate.
    ///
    /// Unlike the other scenarios the runtimes take turns here instead of alternating call by
    /// call: alternated, every runtime's last containers were measured with all runtimes'
    /// containers alive (800 with four runtimes), so each one's trend carried the others' load
    /// (runc's and crun's cgroups, every extra task that pivot_root's walk over all tasks
    /// visits). Turns give each runtime the same empty start, and a fixed order is fair because
    /// last/first is a ratio within one runtime's series.
    pub fn churn(&mut self) -> Result<()> {
        let n = self.settings.churn;
        let w = self.settings.window;
        let rts = self.rts.len();
        let mut churn = Churn { create_start: vec![Vec::new(); rts], delete_force: vec![Vec::new(); rts] };
        let list = self.new_op("list_many", &format!("list ({n} containers)"));
        for r in 0..rts {
            self.progress(&format!("churn {}: {n} containers up, list, {n} deleted", self.rts[r].name));
            for i in 0..n {
                let (tc, ts) = self.create_running(r, &self.id(r, "churn", i))?;
                let rss_kib = tc.maxrss_kib.max(ts.maxrss_kib);
                let ms = (tc.elapsed + ts.elapsed).as_secs_f64() * 1e3;
                churn.create_start[r].push(Sample { ms, rss_kib });
            }
            for round in 0..self.total_rounds() {
                let t = self.rts[r].call(&["list"])?;
                if round >= self.settings.warmup {
                    self.ops[list].samples[r].push(t.into());
                }
            }
            // The same namespace floor as at the start, now with this runtime's containers
            // alive: whatever the kernel alone makes slower as they accumulate shows here too.
            let label = format!("{NAMESPACES_FLOOR}, with {n} {} containers alive", self.rts[r].name);
            let mut cmds = [(label, self.namespaces_floor()?)];
            let floor = self.measure_floors(&mut cmds, self.settings.rounds.min(30))?;
            let [(label, _)] = cmds;
            self.floors.extend(floor.into_iter().map(|s| (label.clone(), s)));
            for i in 0..n {
                let t = self.rts[r].call(&["delete", "-f", &self.id(r, "churn", i)])?;
                churn.delete_force[r].push(t.into());
            }
            self.settle();
        }
        let windows = [
            ("churn_create_start_first", format!("create+start, containers 1-{w} of {n}"), 0..w),
            (
                "churn_create_start_last",
                format!("create+start, containers {}-{n} of {n}", n - w + 1),
                n - w..n,
            ),
            ("churn_delete_first", format!("delete -f, containers 1-{w} of {n}"), 0..w),
            ("churn_delete_last", format!("delete -f, containers {}-{n} of {n}", n - w + 1), n - w..n),
        ];
        for (k, (key, label, range)) in windows.into_iter().enumerate() {
            let op = self.new_op(key, &label);
            let series = if k < 2 { &churn.create_start } else { &churn.delete_force };
            self.ops[op].samples = series.iter().map(|s| s[range.clone()].to_vec()).collect();
        }
        self.churn = Some(churn);
        self.expect_empty("churn")
    }
}
