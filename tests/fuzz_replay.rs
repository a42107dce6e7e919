//! The fuzz targets of fuzz/targets.rs on plain stable Rust, without libFuzzer: every committed
//! corpus input (fuzz/corpus/<target>/*: seeds, what the fuzzers kept, and every crash they
//! found, as regressions) is replayed, then a fixed-seed mutator derives new inputs from them.
//! No root needed.
//!
//! - `SCUTUM_FUZZ_ITERS`: mutated inputs per target (default 300, a few seconds; CI's fuzz
//!   stage runs more);
//! - `SCUTUM_FUZZ_SEED`: the mutator's seed (default fixed, so a run is reproducible).
//!
//! An input that panics is written to `target/tmp/fuzz-failures/<target>/` and named in the
//! failure; copy it into fuzz/corpus/<target>/ once fixed, to keep it as a regression.

#[path = "../fuzz/targets.rs"]
mod targets;

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target)
}

/// The corpus of `target`, sorted by name.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let out: Vec<_> = files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    assert!(!out.is_empty(), "{} is empty", dir.display());
    out
}

fn target_fn(name: &str) -> targets::Target {
    targets::TARGETS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no target {name}")).1
}

/// Runs `input` through the target; on a panic, saves the input and returns where.
fn try_input(target: &str, input: &[u8]) -> Result<(), String> {
    let f = target_fn(target);
    match catch_unwind(AssertUnwindSafe(|| f(input))) {
        Ok(()) => Ok(()),
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures").join(target);
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("crash-{:016x}", fnv(input)));
            std::fs::write(&file, input).unwrap();
            Err(format!("{}: {msg}", file.display()))
        }
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Runs `f` on a thread with the stack a scutum process's main thread has (8 MiB), where the
/// real parsing happens; the test harness's threads have less.
fn on_main_sized_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(8 << 20).spawn(f).unwrap().join().unwrap()
}

fn replay(target: &'static str) {
    let failures = on_main_sized_stack(move || {
        corpus(target)
            .iter()
            .filter_map(|(p, bytes)| try_input(target, bytes).err().map(|e| format!("{}: {e}", p.display())))
            .collect::<Vec<_>>()
    });
    assert!(failures.is_empty(), "{} corpus inputs crash:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The mutator.

/// xorshift64*: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Raw JSON tokens that stress numbers, strings and nesting (inserted as text, since
/// `serde_json::Value` cannot hold most of them).
fn raw_tokens(rng: &mut Rng) -> String {
    let fixed = [
        "null",
        "true",
        "false",
        "0",
        "-0",
        "-1",
        "0.5",
        "1e999",
        "-1e999",
        "4294967295",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "1e19",
        "\"\"",
        "\"/\"",
        "\"..\"",
        "\"../../../../\"",
        "\"/proc/self/ns/net\"",
        "\"/proc/1/root\"",
        "\"/proc/self/fd/3\"",
        "\"/var/run/docker.sock\"",
        "\"a\\nb\"",
        "\"line\\r\\nSCU-FAKE-001 forged\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\udfff\\ud800\"",
        "\"CAP_SYS_ADMIN\"",
        "\"SCMP_ACT_ALLOW\"",
        "\"SCMP_ACT_NOTIFY\"",
        "{}",
        "[]",
        "[null]",
        "{\"\":null}",
    ];
    match rng.below(6) {
        0 => {
            let depth = *rng.pick(&[64, 127, 128, 129, 1000, 100_000]);
            let (open, close) = if rng.below(2) == 0 { ("[", "]") } else { ("{\"a\":", "}") };
            format!("{}{}", open.repeat(depth), close.repeat(depth))
        }
        1 => format!("\"{}\"", "A".repeat(*rng.pick(&[4096, 65_536, 200_000]))),
        2 => format!("{}", rng.next()),
        3 => format!("-{}", rng.next() >> rng.below(64)),
        _ => rng.pick(&fixed).to_string(),
    }
}

/// Keys and string values seen anywhere in the corpus, for JSON-aware mutations.
struct Dict {
    keys: Vec<String>,
    strings: Vec<String>,
    values: Vec<Value>,
}

impl Dict {
    fn of(corpus: &[(PathBuf, Vec<u8>)]) -> Dict {
        fn walk(
            v: &Value,
            keys: &mut BTreeSet<String>,
            strings: &mut BTreeSet<String>,
            values: &mut Vec<Value>,
        ) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        keys.insert(k.clone());
                        walk(x, keys, strings, values);
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, keys, strings, values)),
                Value::String(s) if s.len() <= 64 => {
                    strings.insert(s.clone());
                }
                _ => {}
            }
            if values.len() < 4096 {
                values.push(v.clone());
            }
        }
        let (mut keys, mut strings, mut values) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
        for (_, bytes) in corpus {
            if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
                walk(&v, &mut keys, &mut strings, &mut values);
            }
        }
        Dict { keys: keys.into_iter().collect(), strings: strings.into_iter().collect(), values }
    }
}

const PLACEHOLDER: &str = "\u{1}scutum-fuzz-raw\u{1}";

/// Every node of `v`, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// A structural mutation of a JSON document; `None` when `input` is not JSON.
fn mutate_json(input: &[u8], rng: &mut Rng, dict: &Dict) -> Option<Vec<u8>> {
    let mut doc: Value = serde_json::from_slice(input).ok()?;
    let mut nodes = Vec::new();
    pointers(&doc, String::new(), &mut nodes);
    let at = rng.pick(&nodes).clone();
    let mut raw = None;
    let replacement = match rng.below(8) {
        0 => Value::String(rng.pick(&dict.strings).clone()),
        1 if !dict.values.is_empty() => rng.pick(&dict.values).clone(),
        2 => {
            // Remove the node, or a key of it.
            let (parent, last) = at.rsplit_once('/')?;
            match doc.pointer_mut(parent)? {
                Value::Object(m) => {
                    m.shift_remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Value::Array(a) if !a.is_empty() => {
                    let i = rng.below(a.len());
                    a.remove(i);
                }
                _ => {}
            }
            return serde_json::to_vec(&doc).ok();
        }
        3 => {
            // Add a key known elsewhere, or duplicate an array element.
            match doc.pointer_mut(&at)? {
                Value::Object(m) => {
                    let k = rng.pick(&dict.keys).clone();
                    m.insert(k, Value::String(PLACEHOLDER.into()));
                    raw = Some(raw_tokens(rng));
                }
                Value::Array(a) if !a.is_empty() => {
                    let x = a[rng.below(a.len())].clone();
                    a.push(x);
                }
                _ => {}
            }
            return finish(&doc, raw);
        }
        _ => {
            raw = Some(raw_tokens(rng));
            Value::String(PLACEHOLDER.into())
        }
    };
    if at.is_empty() {
        doc = replacement;
    } else {
        *doc.pointer_mut(&at)? = replacement;
    }
    finish(&doc, raw)
}

fn finish(doc: &Value, raw: Option<String>) -> Option<Vec<u8>> {
    let text = serde_json::to_string(doc).ok()?;
    let quoted = serde_json::to_string(PLACEHOLDER).unwrap();
    Some(match raw {
        Some(r) => text.replacen(&quoted, &r, 1).into_bytes(),
        None => text.into_bytes(),
    })
}

/// One byte-level or structural mutation of `input`.
fn mutate(input: &[u8], rng: &mut Rng, corpus: &[(PathBuf, Vec<u8>)], dict: &Dict) -> Vec<u8> {
    let mut b = input.to_vec();
    let pos = |rng: &mut Rng, b: &[u8]| rng.below(b.len() + 1);
    match rng.below(12) {
        0 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        1 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] = *rng.pick(b"\0\xff\x80\xc3\"\\{}[],:0-e.\n");
        }
        2 if !b.is_empty() => {
            let i = rng.below(b.len());
            let n = rng.below((b.len() - i).min(64)) + 1;
            b.drain(i..i + n);
        }
        3 if !b.is_empty() => {
            let i = rng.below(b.len());
            let n = rng.below((b.len() - i).min(256)) + 1;
            let chunk = b[i..i + n].to_vec();
            let at = pos(rng, &b);
            b.splice(at..at, chunk);
        }
        4 => {
            // Splice: the head of this input with the tail of another.
            let other = &rng.pick(corpus).1;
            let (i, j) = (pos(rng, &b), rng.below(other.len() + 1));
            b.truncate(i);
            b.extend_from_slice(&other[j..]);
        }
        5 => {
            let n = pos(rng, &b);
            b.truncate(n);
        }
        6 => {
            // Invalid UTF-8, preferably inside a string.
            let quotes: Vec<usize> =
                b.iter().enumerate().filter(|(_, c)| **c == b'"').map(|(i, _)| i + 1).collect();
            let at = if quotes.is_empty() { pos(rng, &b) } else { *rng.pick(&quotes) };
            const BAD: [&[u8]; 5] = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"];
            let bad = *rng.pick(&BAD);
            b.splice(at..at, bad.iter().copied());
        }
        7 => {
            let at = pos(rng, &b);
            let t = raw_tokens(rng);
            b.splice(at..at, t.into_bytes());
        }
        _ => {
            if let Some(m) = mutate_json(&b, rng, dict) {
                b = m;
            }
        }
    }
    b.truncate(1 << 20);
    b
}

fn iterations() -> usize {
    std::env::var("SCUTUM_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

fn seed() -> u64 {
    std::env::var("SCUTUM_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5c07_u64)
}

fn mutations(target: &'static str) {
    let (iters, seed) = (iterations(), seed());
    let failures = on_main_sized_stack(move || {
        let corpus = corpus(target);
        let dict = Dict::of(&corpus);
        // Each target its own stream; never a zero state.
        let mut rng = Rng(seed ^ fnv(target.as_bytes()) | 1);
        let mut failures = Vec::new();
        for _ in 0..iters {
            let mut input = rng.pick(&corpus).1.clone();
            for _ in 0..rng.below(4) + 1 {
                input = mutate(&input, &mut rng, &corpus, &dict);
            }
            if let Err(e) = try_input(target, &input) {
                failures.push(e);
            }
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{} of {iters} mutated inputs crash (seed {seed}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn config_survives_its_corpus() {
    replay("config");
}

#[test]
fn config_survives_mutations() {
    mutations("config");
}

#[test]
fn seccomp_survives_its_corpus() {
    replay("seccomp");
}

#[test]
fn seccomp_survives_mutations() {
    mutations("seccomp");
}

#[test]
fn state_survives_its_corpus() {
    replay("state");
}

#[test]
fn state_survives_mutations() {
    mutations("state");
}

#[test]
fn policy_file_survives_its_corpus() {
    replay("policy_file");
}

#[test]
fn policy_file_survives_mutations() {
    mutations("policy_file");
}

/// The state target fuzzes the pure parse; `Container::load` (what state, list, kill and
/// delete call) reads the file and must decide exactly the same for every corpus input.
#[test]
fn state_json_on_disk_loads_like_the_pure_parse() {
    use scutum::container::{Container, State};
    let root = common::TempDir::new("fuzz-state");
    std::fs::create_dir(root.path().join("fuzz")).unwrap();
    for (p, bytes) in corpus("state") {
        let file = root.path().join("fuzz/state.json");
        std::fs::write(&file, &bytes).unwrap();
        let loaded = Container::load(root.path(), "fuzz").map(|c| serde_json::to_value(c.state).unwrap());
        let parsed = State::parse(&file, "fuzz", &bytes).map(|s| serde_json::to_value(s).unwrap());
        match (loaded, parsed) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", p.display()),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", p.display()),
            (a, b) => panic!("{}: load gave {a:?}, parse gave {b:?}", p.display()),
        }
    }
}

/// The mutator itself: deterministic for a seed, and it really does produce the hostile shapes
/// it promises (invalid UTF-8, deep nesting, huge numbers), so a green run means something.
#[test]
fn the_mutator_is_deterministic_and_reaches_hostile_inputs() {
    // The seeds only: what libFuzzer added to the corpus is mostly no longer JSON.
    let corpus: Vec<_> = corpus("config")
        .into_iter()
        .filter(|(p, _)| p.file_name().unwrap().to_string_lossy().starts_with("seed-"))
        .collect();
    let dict = Dict::of(&corpus);
    let run = |seed| {
        let mut rng = Rng(seed);
        (0..2000).map(|_| mutate(&rng.pick(&corpus).1.clone(), &mut rng, &corpus, &dict)).collect::<Vec<_>>()
    };
    let (a, b) = (run(7), run(7));
    assert_eq!(a, b);
    assert!(a.iter().any(|x| std::str::from_utf8(x).is_err()), "no invalid UTF-8");
    assert!(a.iter().any(|x| x.windows(200).any(|w| w.iter().all(|c| *c == b'['))), "no deep nesting");
    assert!(a.iter().any(|x| x.windows(20).any(|w| w == b"18446744073709551616")), "no huge numbers");
    assert!(
        a.iter().filter(|x| serde_json::from_slice::<Value>(x).is_ok()).count() > 200,
        "too few mutants are still JSON to reach past the parser"
    );
}
