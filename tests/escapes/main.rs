//! The escape regression suite: one test per known container escape, each named after its CVE
//! where there is one, each asserting the host is unchanged. Attacks run from inside real
//! containers through a small static probe (tests/probes/escape_probe.c) built with gcc.

#[path = "../common/mod.rs"]
mod common;
mod inside;
mod rootfs;
mod runtime;

use common::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The escape probe, compiled once per run.
pub fn probe() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile_probe("escape_probe.c", "escape-probe", &[]))
}

/// A bundle running `script` with the probe at /bin/escape-probe.
pub fn probe_bundle(script: &str) -> Bundle {
    let b = Bundle::sh(script);
    std::fs::copy(probe(), b.rootfs().join("bin/escape-probe")).unwrap();
    b
}

/// The probe's verdict lines ("blocked errno N" / "escaped ...") keyed by the test name the
/// script echoed before each run ("name: verdict").
pub fn verdicts(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(_, v)| v.starts_with("blocked") || v.starts_with("escaped"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A copy of the runtime binary for tests that try to overwrite it: the real build output is
/// never at risk, and its checksum is compared after.
pub struct RuntimeCopy {
    pub dir: TempDir,
}

impl Default for RuntimeCopy {
    fn default() -> Self {
        Self::new()
    }
}

impl RuntimeCopy {
    pub fn new() -> RuntimeCopy {
        let dir = TempDir::new("bin");
        std::fs::copy(scutum(), dir.path().join("scutum")).unwrap();
        RuntimeCopy { dir }
    }
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("scutum")
    }
    pub fn digest(&self) -> Vec<u8> {
        std::fs::read(self.path()).unwrap()
    }
}
