//! Link settings for the static musl binary that is installed and benchmarked
//! (integration/build-release.sh). Nothing here applies to other targets.
//!
//! - Packed relative relocations (`-z pack-relative-relocs`): the static-pie's ~8,700
//!   R_X86_64_RELATIVE entries shrink from 200 KiB of `.rela.dyn`, which startup reads on every
//!   call, to 3 KiB of `.relr.dyn` (peak RSS of `state` -256 KiB; ASLR kept).
//! - Hot functions first (`--symbol-ordering-file`, rust-lld from the toolchain): the kernel
//!   maps 64 KiB of the binary around every first touch of a code page (fault-around), so a
//!   call's resident set is the number of 64 KiB windows its code touches. Listing the functions
//!   every lifecycle call runs (benches/link-order.txt, from perf samples: benches/link-order.sh)
//!   puts them in a few hundred KiB together: peak RSS of `run` 2.6 -> 1.4 MiB, `exec`
//!   2.4 -> 1.5 MiB. build-release.sh maps that list to this build's symbols (tolerating
//!   hashes changed by a compiler update) and passes the result in SCUTUM_LINK_ORDER.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SCUTUM_LINK_ORDER");
    if env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-musl") {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    let Some(order) = env::var_os("SCUTUM_LINK_ORDER").map(PathBuf::from) else { return };
    println!("cargo:rerun-if-changed={}", order.display());
    let Some(lld_dir) = rust_lld_dir() else {
        println!("cargo:warning=rust-lld not found in the toolchain: linking without the hot-function order");
        return;
    };
    println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
    println!("cargo:rustc-link-arg-bins=-B{}", lld_dir.display());
    if std::fs::metadata(&order).is_ok_and(|m| m.len() > 0) {
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// The toolchain's `gcc-ld` directory, whose `ld.lld` runs rust-lld (what rustc itself uses for
/// a self-contained lld link).
fn rust_lld_dir() -> Option<PathBuf> {
    let rustc = env::var_os("RUSTC")?;
    let out = Command::new(rustc).args(["--print", "sysroot"]).output().ok()?;
    let sysroot = String::from_utf8(out.stdout).ok()?;
    let host = env::var("HOST").ok()?;
    let dir = Path::new(sysroot.trim()).join("lib/rustlib").join(host).join("bin/gcc-ld");
    dir.join("ld.lld").exists().then_some(dir)
}
