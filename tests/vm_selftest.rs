//! Self-test of the qemu VM harness (integration/vm/).
//!
//! Every test returns early with a note "not in the VM" unless
//! `/proc/cmdline` contains `cgroup_no_v1=all`, the marker of the harness VM
//! (set `SCUTUM_REQUIRE_VM=1` to turn that skip into a failure). Run them in
//! the VM with:
//!
//! ```sh
//! CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$PWD/integration/vm/run-in-vm.sh \
//!     cargo test --test vm_selftest
//! ```
//!
//! These only check the environment the harness promises (see
//! integration/vm/README.md); real cgroup tests go through the runtime.

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const EXT4_SUPER_MAGIC: i64 = 0xEF53;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Writes straight to stderr, past libtest's output capture, so that the
/// test log shows whether the assertions ran or were skipped.
fn note(test: &str, msg: &str) {
    let line = format!("vm_selftest::{test}: {msg}\n");
    let _ = io::stderr().write_all(line.as_bytes());
}

/// True inside the harness VM. Outside it, prints the skip note (or panics
/// when SCUTUM_REQUIRE_VM=1).
fn in_vm(test: &str) -> bool {
    let cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
    if cmdline.split_whitespace().any(|w| w == "cgroup_no_v1=all") {
        return true;
    }
    if std::env::var_os("SCUTUM_REQUIRE_VM").is_some_and(|v| v == "1") {
        panic!("{test}: not in the VM, but SCUTUM_REQUIRE_VM=1");
    }
    note(test, "not in the VM (no cgroup_no_v1=all in /proc/cmdline): skipped");
    false
}

fn fs_type(path: &str) -> i64 {
    let c = CString::new(path).unwrap();
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    assert_eq!(rc, 0, "statfs {path}: {}", io::Error::last_os_error());
    st.f_type as i64
}

fn words(path: &str) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A child cgroup of the root, removed on drop.
struct Cgroup(PathBuf);

impl Cgroup {
    fn new(name: &str) -> Cgroup {
        let path = Path::new(CGROUP_ROOT).join(format!("{name}-{}", std::process::id()));
        fs::create_dir(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        Cgroup(path)
    }

    fn write(&self, file: &str, value: &str) {
        let p = self.0.join(file);
        fs::write(&p, value).unwrap_or_else(|e| panic!("write {value} to {}: {e}", p.display()));
    }

    fn read(&self, file: &str) -> String {
        let p = self.0.join(file);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// `key value` lines, as in memory.events.
    fn key(&self, file: &str, key: &str) -> u64 {
        self.read(file)
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {file}"))
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The cgroup empties asynchronously after its last process is reaped.
        for _ in 0..50 {
            if fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = writeln!(io::stderr(), "warning: could not remove {}", self.0.display());
    }
}

#[test]
fn cgroup2_only_with_controllers() {
    if !in_vm("cgroup2_only_with_controllers") {
        return;
    }
    assert_eq!(fs_type(CGROUP_ROOT), CGROUP2_SUPER_MAGIC, "{CGROUP_ROOT} is not cgroup2");
    let controllers = words("/sys/fs/cgroup/cgroup.controllers");
    let enabled = words("/sys/fs/cgroup/cgroup.subtree_control");
    for c in ["cpu", "cpuset", "memory", "io", "pids", "hugetlb"] {
        assert!(controllers.iter().any(|x| x == c), "{c} not in cgroup.controllers: {controllers:?}");
        assert!(enabled.iter().any(|x| x == c), "{c} not in cgroup.subtree_control: {enabled:?}");
    }
    // No v1 hierarchy may be mounted anywhere.
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(!mounts.lines().any(|l| l.split(' ').nth(2) == Some("cgroup")), "a cgroup v1 mount:\n{mounts}");
    note("cgroup2_only_with_controllers", &format!("in the VM: controllers {controllers:?}"));
}

#[test]
fn memory_max_oom_kills() {
    if !in_vm("memory_max_oom_kills") {
        return;
    }
    let cg = Cgroup::new("vm-selftest-mem");
    cg.write("memory.max", "32M");
    cg.write("memory.swap.max", "0");
    assert_eq!(cg.read("memory.max").trim(), (32u64 << 20).to_string());

    // tail keeps its last ten lines in memory: 100 MB without a newline.
    let procs = CString::new(cg.0.join("cgroup.procs").as_os_str().as_bytes()).unwrap();
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "head -c 100M /dev/zero | tail"]);
    unsafe {
        // Between fork and exec: async-signal-safe calls only.
        cmd.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(io::Error::last_os_error());
            }
            libc::close(fd);
            Ok(())
        });
    }
    let out = cmd.output().expect("spawn /bin/sh in the cgroup");
    let oom_kill = cg.key("memory.events", "oom_kill");
    note(
        "memory_max_oom_kills",
        &format!(
            "in the VM: memory.max=32M, 100 MB allocation -> {}, memory.events oom_kill={oom_kill}",
            out.status
        ),
    );
    assert!(!out.status.success(), "the allocation survived memory.max=32M");
    assert!(oom_kill >= 1, "memory.events: {}", cg.read("memory.events"));
}

#[test]
fn scratch_is_ext4() {
    if !in_vm("scratch_is_ext4") {
        return;
    }
    assert_eq!(std::env::var("SCUTUM_VM_SCRATCH").as_deref(), Ok("/scratch"));
    assert_eq!(fs_type("/scratch"), EXT4_SUPER_MAGIC, "/scratch is not ext4");
    let root = fs::metadata("/").unwrap();
    let scratch = fs::metadata("/scratch").unwrap();
    assert_ne!(root.dev(), scratch.dev(), "/scratch is not a mount point");
    let probe = Path::new("/scratch").join(format!("vm-selftest-{}", std::process::id()));
    fs::write(&probe, b"ok").unwrap();
    assert_eq!(fs::read(&probe).unwrap(), b"ok");
    fs::remove_file(&probe).unwrap();
    note("scratch_is_ext4", "in the VM: /scratch is a writable ext4 mount");
}

#[test]
fn io_disk_is_a_raw_block_device() {
    if !in_vm("io_disk_is_a_raw_block_device") {
        return;
    }
    let dev = std::env::var("SCUTUM_VM_IO_DISK").expect("SCUTUM_VM_IO_DISK");
    let majmin = std::env::var("SCUTUM_VM_IO_DISK_MAJMIN").expect("SCUTUM_VM_IO_DISK_MAJMIN");
    let md = fs::metadata(&dev).unwrap();
    assert!(md.file_type().is_block_device(), "{dev} is not a block device");
    let rdev = md.rdev();
    let actual = format!("{}:{}", libc::major(rdev), libc::minor(rdev));
    assert_eq!(actual, majmin, "{dev}");
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(!mounts.lines().any(|l| l.starts_with(&format!("{dev} "))), "{dev} is mounted");
    note("io_disk_is_a_raw_block_device", &format!("in the VM: {dev} is {majmin}"));
}

#[test]
fn root_allows_pivot_root() {
    if !in_vm("root_allows_pivot_root") {
        return;
    }
    assert_eq!(fs_type("/"), TMPFS_MAGIC, "/ is not a tmpfs");
    let dir = format!("/tmp/vm-selftest-pivot-{}", std::process::id());
    fs::create_dir(&dir).unwrap();
    let c_dir = CString::new(dir.as_str()).unwrap();
    let (c_root, c_tmpfs, c_old, c_slash) = (c"/", c"tmpfs", c"old", c"/");
    let c_old_abs = c"/old";
    // Fork: unshare(CLONE_NEWNS) needs a single-threaded caller. The child
    // makes raw system calls only and reports the failing step as status.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
    if pid == 0 {
        unsafe {
            let step = |ok: bool, n: i32| {
                if !ok {
                    libc::_exit(n)
                }
            };
            step(libc::unshare(libc::CLONE_NEWNS) == 0, 10);
            let private = libc::MS_REC | libc::MS_PRIVATE;
            step(
                libc::mount(std::ptr::null(), c_root.as_ptr(), std::ptr::null(), private, std::ptr::null())
                    == 0,
                11,
            );
            step(
                libc::mount(c_tmpfs.as_ptr(), c_dir.as_ptr(), c_tmpfs.as_ptr(), 0, std::ptr::null()) == 0,
                12,
            );
            step(libc::chdir(c_dir.as_ptr()) == 0, 13);
            step(libc::mkdir(c_old.as_ptr(), 0o700) == 0, 14);
            step(libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c_old.as_ptr()) == 0, 15);
            step(libc::chdir(c_slash.as_ptr()) == 0, 16);
            step(libc::umount2(c_old_abs.as_ptr(), libc::MNT_DETACH) == 0, 17);
            libc::_exit(0);
        }
    }
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    let _ = fs::remove_dir(&dir);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "pivot_root in a new mount namespace failed at step {} (raw status {status})",
        libc::WEXITSTATUS(status)
    );
    note("root_allows_pivot_root", "in the VM: pivot_root into a tmpfs works");
}
