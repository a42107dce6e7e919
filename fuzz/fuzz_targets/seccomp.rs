//! cargo-fuzz driver for the `seccomp_profile` target (fuzz/targets.rs).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::seccomp_profile(data));
