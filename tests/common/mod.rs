//! Shared test fixtures: a busybox rootfs built from the host's static busybox, bundles made by
//! `scutum spec`, and a runtime with its own temporary `--root`. Every test uses unique ids and
//! its own state root; on drop, everything a test created is removed.
#![allow(dead_code)]

pub mod cgroup;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub fn scutum() -> &'static str {
    env!("CARGO_BIN_EXE_scutum")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Compiles `tests/probes/<source>` statically with gcc (plus `flags`) into the test target
/// dir as `name`: small C programs that make the syscalls busybox cannot.
pub fn compile_probe(source: &str, name: &str, flags: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probes").join(source);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let st = Command::new("gcc")
        .args(["-static", "-O1"])
        .args(flags)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "gcc -static failed for {}", src.display());
    std::fs::rename(&tmp, &out).unwrap();
    out
}

/// A name unique to this test process and call.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(&format!("scutum-test-{prefix}")));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Busybox applets linked into the test rootfs.
const APPLETS: &[&str] = &[
    "sh",
    "ls",
    "cat",
    "echo",
    "id",
    "hostname",
    "mount",
    "ps",
    "sleep",
    "true",
    "false",
    "env",
    "pwd",
    "touch",
    "grep",
    "head",
    "tail",
    "wc",
    "stat",
    "mkdir",
    "rm",
    "dd",
    "tar",
    "wget",
    "readlink",
    "test",
    "kill",
    "trap",
    "ulimit",
    "umask",
    "mknod",
    "chmod",
    "printf",
    "tr",
    "sed",
    "awk",
    "sort",
    "uniq",
    "cut",
    "date",
    "nc",
    "seq",
    "xargs",
    "find",
    "ln",
    "cp",
    "mv",
    "dirname",
    "basename",
    "expr",
    "tee",
    "od",
    "hexdump",
    "md5sum",
    "sha256sum",
];

/// The host's static busybox (Debian's busybox-static package).
pub fn busybox() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        for p in ["/bin/busybox", "/usr/bin/busybox"] {
            let out = Command::new("file").arg("-L").arg(p).output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("statically linked")) {
                return PathBuf::from(p);
            }
        }
        panic!("a static busybox is needed (apt-get install busybox-static)");
    })
}

/// Fills `rootfs` with busybox and the directories a container expects.
pub fn make_rootfs(rootfs: &Path) {
    for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "root", "run", "var/tmp"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy(busybox(), rootfs.join("bin/busybox")).unwrap();
    for a in APPLETS {
        let _ = std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a));
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n").unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\ntty:x:5:\nnobody:x:65534:\n").unwrap();
}

/// A bundle: a temp dir with `rootfs/` and `config.json` from `scutum spec`, terminal off.
pub struct Bundle {
    pub dir: TempDir,
}

impl Bundle {
    pub fn new() -> Bundle {
        let dir = TempDir::new("bundle");
        make_rootfs(&dir.0.join("rootfs"));
        let out = Command::new(scutum()).args(["spec", "--bundle"]).arg(&dir.0).output().unwrap();
        assert!(out.status.success(), "scutum spec failed: {}", String::from_utf8_lossy(&out.stderr));
        let b = Bundle { dir };
        b.edit(|c| c["process"]["terminal"] = Value::Bool(false));
        b
    }

    /// A bundle running `sh -c script`.
    pub fn sh(script: &str) -> Bundle {
        let b = Bundle::new();
        b.args(&["sh", "-c", script]);
        b
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.0.join("rootfs")
    }

    pub fn config(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path().join("config.json")).unwrap()).unwrap()
    }

    pub fn edit(&self, f: impl FnOnce(&mut Value)) {
        let mut c = self.config();
        f(&mut c);
        std::fs::write(self.path().join("config.json"), serde_json::to_vec_pretty(&c).unwrap()).unwrap();
    }

    pub fn args(&self, args: &[&str]) {
        self.edit(|c| c["process"]["args"] = serde_json::json!(args));
    }

    /// Writes raw text as config.json (for malformed-config tests).
    pub fn write_raw(&self, text: &str) {
        std::fs::write(self.path().join("config.json"), text).unwrap();
    }
}

/// The result of one scutum call.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// A run whose stdout and stderr went to the files `out` and `err` (removed here).
    pub fn from_files(status: std::process::ExitStatus, out: &Path, err: &Path) -> Run {
        let r = Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(out).unwrap_or_default(),
            stderr: std::fs::read_to_string(err).unwrap_or_default(),
        };
        let _ = std::fs::remove_file(out);
        let _ = std::fs::remove_file(err);
        r
    }

    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success; stderr: {}\nstdout: {}", self.stderr, self.stdout);
        self
    }

    #[track_caller]
    pub fn fails_with(self, words: &str) -> Run {
        assert_eq!(self.code, 1, "expected exit 1; stdout: {} stderr: {}", self.stdout, self.stderr);
        assert!(self.stderr.contains(words), "stderr lacks {words:?}: {}", self.stderr);
        assert_eq!(self.stderr.trim_end().lines().count(), 1, "error is not one line: {}", self.stderr);
        self
    }
}

/// A scutum runtime with its own state root; deletes (force) whatever is left on drop.
pub struct Runtime {
    pub root: TempDir,
    pub extra: Vec<String>,
    /// Another scutum binary to run (default: the one cargo built).
    pub binary: Option<PathBuf>,
}

impl Runtime {
    pub fn new() -> Runtime {
        Runtime { root: TempDir::new("root"), extra: Vec::new(), binary: None }
    }

    /// A runtime with runc's semantics (`--policy unconfined`): for tests about mechanisms, not
    /// about the hardened defaults.
    pub fn unconfined() -> Runtime {
        Runtime::with(&["--policy", "unconfined"])
    }

    /// A runtime whose calls all carry these global flags (e.g. `--policy unconfined`).
    pub fn with(flags: &[&str]) -> Runtime {
        let mut r = Runtime::new();
        r.extra = flags.iter().map(|s| s.to_string()).collect();
        r
    }

    /// Every call logs to `<root>/scutum.log` in JSON, as containerd's shim does.
    pub fn command(&self) -> Command {
        let mut c = Command::new(self.binary.as_deref().unwrap_or(Path::new(scutum())));
        c.arg("--root")
            .arg(self.root.path())
            .arg("--log")
            .arg(self.log_path())
            .args(["--log-format", "json"]);
        c.args(&self.extra);
        c
    }

    pub fn log_path(&self) -> PathBuf {
        self.root.path().join("scutum.log")
    }

    /// The JSON lines of the log.
    pub fn log_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn cmd(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).stdin(Stdio::null()).output().unwrap())
    }

    /// [`Runtime::cmd`] for attacks that would hang the runtime: fails the test (and kills the
    /// call) if it has not exited within 20 s.
    pub fn cmd_within_deadline(&self, args: &[&str]) -> Run {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("scutum {args:?} still running after 20 s: it hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Run::from(child.wait_with_output().unwrap())
    }

    /// `run` in the foreground in `bundle`.
    pub fn run(&self, id: &str, bundle: &Bundle) -> Run {
        self.cmd(&["run", "--bundle", bundle.path().to_str().unwrap(), id])
    }

    /// `create` in `bundle`. The init inherits create's stdio and outlives it, so stdio goes to
    /// files, never to pipes we would wait on forever.
    pub fn create(&self, id: &str, bundle: &Bundle, extra: &[&str]) -> Run {
        let mut args = vec!["create", "--bundle", bundle.path().to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(id);
        self.cmd_detached(&args)
    }

    /// A call whose children may outlive it (create, run -d): stdout and stderr via files.
    pub fn cmd_detached(&self, args: &[&str]) -> Run {
        let out = self.root.path().join(format!(".out-{}", unique("o")));
        let err = self.root.path().join(format!(".err-{}", unique("e")));
        let status = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        Run::from_files(status, &out, &err)
    }

    pub fn state(&self, id: &str) -> Value {
        let r = self.cmd(&["state", id]).ok();
        serde_json::from_str(&r.stdout).unwrap()
    }

    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap().to_string()
    }

    /// Polls `state` until `status` (at most ~10 s; the container runs on its own schedule).
    /// A container that does not exist yet (a `run` still starting) is waited for too.
    pub fn wait_status(&self, id: &str, status: &str) {
        let mut last = String::new();
        for _ in 0..1000 {
            let r = self.cmd(&["state", id]);
            if r.code == 0 {
                let v: Value = serde_json::from_str(&r.stdout).unwrap();
                last = v["status"].as_str().unwrap_or_default().to_string();
                if last == status {
                    return;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("container {id} never became {status}; it is {last:?}");
    }

    pub fn ids(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('@'))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for id in self.ids() {
            let _ = self.cmd(&["delete", "--force", &id]);
        }
    }
}

/// What the host looks like, for "nothing left behind" checks.
#[derive(Debug, PartialEq, Eq)]
pub struct HostSnapshot {
    pub mounts: Vec<String>,
}

pub fn host_snapshot() -> HostSnapshot {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    // Drop mount ids (fields 1-2): compare what is mounted where.
    let mut mounts: Vec<String> =
        text.lines().map(|l| l.split(' ').skip(2).collect::<Vec<_>>().join(" ")).collect();
    mounts.sort();
    HostSnapshot { mounts }
}

/// Processes whose command line mentions `needle`.
pub fn processes_with(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        if pid == std::process::id() as i32 {
            continue;
        }
        if is_gone(pid) {
            continue;
        }
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// True when `pid` has exited (gone, or a zombie waiting for its reaper).
pub fn is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')),
    }
}
