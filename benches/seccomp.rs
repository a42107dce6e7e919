//! What one `create` spends on seccomp before cloning the init: parsing the embedded default
//! profile (what the policy engine injects when a config has none) and compiling it into the
//! filter stack. `cargo bench --bench seccomp`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn compile_default_profile(c: &mut Criterion) {
    let profile = scutum::seccomp::default_profile();
    c.bench_function("seccomp/compile default profile", |b| {
        b.iter(|| scutum::seccomp::compile(black_box(&profile)).unwrap())
    });
    c.bench_function("seccomp/parse + compile default profile", |b| {
        b.iter(|| scutum::seccomp::compile(&black_box(scutum::seccomp::default_profile())).unwrap())
    });
}

criterion_group!(benches, compile_default_profile);
criterion_main!(benches);
