//! cargo-fuzz driver for the `policy_file` target (fuzz/targets.rs).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::policy_file(data));
