//! Hostile bundles through the scutum binary: a config.json that is huge, deeply nested, not
//! UTF-8, empty, a FIFO, a directory, a symlink to /dev/zero, or that grows while it is read;
//! a rootfs that is a symlink or missing. Each gets one clear line naming the problem, exit 1,
//! and leaves no state directory, mount or process behind. Run as root on the host.

mod common;
use common::*;
use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `create` that must finish: a runtime that blocks on its input is killed after a minute and
/// the test fails (a hang is the bug here; the limit is only a backstop, not a measurement).
fn create_must_finish(rt: &Runtime, id: &str, bundle: &Bundle) -> Run {
    let out = rt.root.path().join(format!(".out-{id}"));
    let err = rt.root.path().join(format!(".err-{id}"));
    let mut child = rt
        .command()
        .args(["create", "--bundle", bundle.path().to_str().unwrap(), id])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scutum create hung on a hostile bundle");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run::from_files(status, &out, &err)
}

/// The create fails with one line containing every one of `words`, exit 1, and leaves nothing.
#[track_caller]
fn assert_refused(b: &Bundle, words: &[&str]) -> String {
    assert_refused_with(&[], b, words)
}

/// [`assert_refused`] with global flags (`--policy baseline`).
#[track_caller]
fn assert_refused_with(flags: &[&str], b: &Bundle, words: &[&str]) -> String {
    let rt = Runtime::with(flags);
    let before = host_snapshot();
    let id = unique("hostile");
    let r = create_must_finish(&rt, &id, b);
    let stderr = r.stderr.clone();
    // Exit 1 and one line on stderr, with every word in it.
    r.fails_with(words[0]);
    for w in &words[1..] {
        assert!(stderr.contains(w), "stderr lacks {w:?}: {stderr}");
    }
    assert!(rt.ids().is_empty(), "state left behind: {:?}", rt.ids());
    assert_eq!(host_snapshot(), before, "mounts changed");
    assert!(processes_with(&id).is_empty(), "a process survived");
    stderr
}

fn config_path(b: &Bundle) -> std::path::PathBuf {
    b.path().join("config.json")
}

#[test]
fn a_config_over_the_size_limit_is_refused_naming_the_limit() {
    let b = Bundle::sh("true");
    // A valid config, padded past 4 MiB with whitespace: only the size is wrong.
    let mut f = std::fs::OpenOptions::new().append(true).open(config_path(&b)).unwrap();
    f.write_all(&vec![b' '; scutum::spec::MAX_CONFIG_BYTES as usize]).unwrap();
    drop(f);
    let e = assert_refused(&b, &["config.json", "larger than the 4194304-byte limit"]);
    assert!(e.contains(&format!("{} bytes", std::fs::metadata(config_path(&b)).unwrap().len())), "{e}");
}

#[test]
fn deeply_nested_json_where_a_value_belongs_is_refused_naming_the_field() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    // 100000 nested arrays where an annotation's string value belongs.
    let b = Bundle::sh("true");
    let text = std::fs::read_to_string(config_path(&b)).unwrap();
    let text = text.replacen('{', &format!("{{\"annotations\": {{\"deep\": {}}},", deep(100_000)), 1);
    b.write_raw(&text);
    assert_refused(&b, &["config.json", "annotations.deep", "invalid type: sequence"]);
    // And as the whole document.
    let b = Bundle::sh("true");
    b.write_raw(&deep(100_000));
    assert_refused(&b, &["config.json", "invalid type"]);
}

#[test]
fn deep_nesting_in_an_unknown_field_is_skipped() {
    // The runtime spec says unknown properties are ignored; skipping 100000 nested objects
    // must neither crash the parser nor stop the container.
    let b = Bundle::sh("echo ran");
    let objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let text = std::fs::read_to_string(config_path(&b)).unwrap();
    b.write_raw(&text.replacen('{', &format!("{{\"io.example.unknown\": {objects},"), 1));
    let r = Runtime::new().run(&unique("deep"), &b);
    assert_eq!((r.code, r.stdout.as_str()), (0, "ran\n"), "{}", r.stderr);
}

#[test]
fn invalid_utf8_in_config_json_is_refused_naming_the_field() {
    let b = Bundle::sh("true");
    b.edit(|c| c["hostname"] = serde_json::json!("HOSTNAME"));
    let text = std::fs::read(config_path(&b)).unwrap();
    let at = text.windows(8).position(|w| w == b"HOSTNAME").unwrap();
    let mut bad = text[..at].to_vec();
    bad.extend_from_slice(b"host\xff\xfe\xc3");
    bad.extend_from_slice(&text[at + 8..]);
    std::fs::write(config_path(&b), bad).unwrap();
    assert_refused(&b, &["config.json", "hostname", "invalid unicode code point"]);
}

#[test]
fn an_empty_config_json_says_it_is_empty() {
    let b = Bundle::sh("true");
    b.write_raw("");
    assert_refused(&b, &["config.json", "the file is empty"]);
}

#[test]
fn a_fifo_as_config_json_is_refused_without_waiting_for_a_writer() {
    let b = Bundle::sh("true");
    std::fs::remove_file(config_path(&b)).unwrap();
    scutum::sys::fs::mkfifo(&config_path(&b), 0o600).unwrap();
    assert_refused(&b, &["config.json: is a fifo, not a regular file"]);
}

#[test]
fn a_directory_as_config_json_is_refused() {
    let b = Bundle::sh("true");
    std::fs::remove_file(config_path(&b)).unwrap();
    std::fs::create_dir(config_path(&b)).unwrap();
    assert_refused(&b, &["config.json: is a directory, not a regular file"]);
}

#[test]
fn a_config_json_symlinked_to_dev_zero_is_refused_without_reading_it() {
    let b = Bundle::sh("true");
    std::fs::remove_file(config_path(&b)).unwrap();
    std::os::unix::fs::symlink("/dev/zero", config_path(&b)).unwrap();
    assert_refused(&b, &["config.json: is a character device, not a regular file"]);
}

#[test]
fn a_config_json_that_grows_while_it_is_read_is_refused() {
    // Exactly at the limit when create looks (and not valid JSON), then growing fast: create
    // sees it over the limit at the size check or during the read (take() stops one byte past
    // it), or reads it before it grew and finds it incomplete. Every outcome is a refusal.
    let b = Bundle::sh("true");
    let path = config_path(&b);
    let mut head = b"{".to_vec();
    head.resize(scutum::spec::MAX_CONFIG_BYTES as usize, b' ');
    std::fs::write(&path, &head).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), path.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            let chunk = vec![b' '; 64 << 10];
            // At most 64 MiB, so a runtime that never stopped reading would still finish.
            for _ in 0..1024 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                f.write_all(&chunk).unwrap();
            }
        })
    };
    let e = assert_refused(&b, &["config.json"]);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(e.contains("larger than the 4194304-byte limit") || e.contains("EOF while parsing"), "{e}");
}

#[test]
fn a_rootfs_that_is_a_symlink_is_refused() {
    let b = Bundle::sh("true");
    std::fs::rename(b.rootfs(), b.path().join("real-rootfs")).unwrap();
    std::os::unix::fs::symlink("real-rootfs", b.rootfs()).unwrap();
    assert_refused(&b, &["root.path", "a symlink is not accepted"]);
    // Also when it points outside the bundle, at the host's root.
    std::fs::remove_file(b.rootfs()).unwrap();
    std::os::unix::fs::symlink("/", b.rootfs()).unwrap();
    assert_refused(&b, &["root.path", "a symlink is not accepted"]);
}

#[test]
fn a_missing_rootfs_is_refused() {
    let b = Bundle::sh("true");
    std::fs::remove_dir_all(b.rootfs()).unwrap();
    assert_refused(&b, &["root.path", "does not exist"]);
    // A rootfs path that is a file, not a directory.
    std::fs::write(b.rootfs(), "not a directory").unwrap();
    assert_refused(&b, &["root.path", "is not a directory"]);
    assert!(b.rootfs().is_file(), "the refused create must not touch the rootfs path");
}

#[test]
fn mounts_made_writable_by_a_later_option_are_judged_as_mounted() {
    // baseline: no user namespace is forced, so container root is host root and a writable
    // sysfs or /usr would be the host's. Later options win (`ro,rw` is writable) and the
    // recursive attribute is applied last (`ro,rrw` is writable).
    let rt_flags = ["--policy", "baseline"];
    let b = Bundle::sh("true");
    b.edit(|c| {
        for m in c["mounts"].as_array_mut().unwrap() {
            if m["type"] == "sysfs" {
                m["options"] = serde_json::json!(["nosuid", "noexec", "nodev", "ro", "rw"]);
            }
        }
    });
    assert_refused_with(&rt_flags, &b, &["SCU-MNT-002", "sysfs on /sys is writable"]);
    // A bind whose source is a symlink in the bundle to the host's /usr: the policy sees an
    // ordinary path, the bind check sees /usr and must see the bind as writable.
    let b = Bundle::sh("true");
    std::os::unix::fs::symlink("/usr", b.path().join("usr-link")).unwrap();
    let src = b.path().join("usr-link");
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!(
            {"destination": "/hostusr", "type": "bind", "source": src, "options": ["rbind", "ro", "rrw"]}))
    });
    assert_refused_with(&rt_flags, &b, &["mounts[", "SCU-MNT-001", "writable bind of the host's /usr"]);
}
