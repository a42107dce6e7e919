#!/usr/bin/env bash
# Fuzzing (docs/fuzzing.md):
#   1. on plain stable: every committed corpus input replayed, then a fixed-seed mutation run
#      of SCUTUM_FUZZ_ITERS inputs per target (tests/fuzz_replay.rs);
#   2. with cargo-fuzz (installed from crates.io if missing; RUSTC_BOOTSTRAP=1 lets libFuzzer's
#      sanitizer flags build on stable): SCUTUM_FUZZ_SECONDS of libFuzzer per target, from the
#      committed corpus, writing new inputs to a temp dir so the tree stays clean.
# SCUTUM_FUZZ_SECONDS=0 skips part 2. Any crash fails the stage and leaves the input under
# target/fuzz-artifacts/ (part 2) or target/tmp/fuzz-failures/ (part 1).
set -euo pipefail
cd "$(dirname "$0")/../.."

iters=${SCUTUM_FUZZ_ITERS:-50000}
secs=${SCUTUM_FUZZ_SECONDS:-20}
targets=(config seccomp state policy_file)

echo "--- fuzz (stable): corpus replay and $iters mutated inputs per target"
SCUTUM_FUZZ_ITERS=$iters cargo test --test fuzz_replay

if [ "$secs" = 0 ]; then
    echo "note: SCUTUM_FUZZ_SECONDS=0: libFuzzer runs skipped"
    exit 0
fi
if ! command -v cargo-fuzz >/dev/null; then
    echo "--- installing cargo-fuzz from crates.io"
    if ! cargo install cargo-fuzz --locked --version 0.13.2; then
        echo "note: cargo-fuzz could not be installed here: libFuzzer runs skipped (the stable part ran)"
        exit 0
    fi
fi
if ! command -v c++ >/dev/null; then
    # libfuzzer-sys compiles libFuzzer's C++ sources.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ >/dev/null
fi

export RUSTC_BOOTSTRAP=1
echo "--- fuzz (libFuzzer): building the targets"
(cd fuzz && cargo fuzz build)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=target/fuzz-artifacts
for t in "${targets[@]}"; do
    echo "--- fuzz (libFuzzer): $t for ${secs}s"
    mkdir -p "$work/$t" "$out/$t"
    # New inputs go to $work/$t (first directory); the committed corpus is only read.
    if ! (cd fuzz && cargo fuzz run "$t" "$work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -dict=oci.dict -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="$PWD/../$out/$t/" -print_final_stats=1 2>"$work/$t.log"); then
        tail -n 60 "$work/$t.log"
        echo "fuzz target $t crashed; the input is in $out/$t/:" >&2
        ls -l "$out/$t" >&2
        exit 1
    fi
    grep -E "^stat::number_of_executed_units|^Done" "$work/$t.log" || true
done
echo "--- fuzz: no crash"
