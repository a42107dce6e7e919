#!/usr/bin/env bash
# Shrinks fuzz/corpus/<target>/ to the inputs that add coverage (libFuzzer -set_cover_merge=1: a small set with the same coverage), always
# keeping the seed-* and regression-* files by name. Run after a fuzzing session, before
# committing what it found (docs/fuzzing.md). Needs cargo-fuzz; targets default to all four.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config seccomp state policy_file)
cargo fuzz build
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release
for t in "${targets[@]}"; do
    tmp=$(mktemp -d)
    cp corpus/"$t"/seed-* corpus/"$t"/regression-* "$tmp"/ 2>/dev/null || true
    before=$(ls corpus/"$t" | wc -l)
    # Merges into $tmp only what adds coverage beyond what is already there.
    "$bin/$t" -set_cover_merge=1 -max_len=65536 -timeout=10 -rss_limit_mb=4096 "$tmp" corpus/"$t" 2>"$tmp.log" ||
        { tail -n 30 "$tmp.log"; exit 1; }
    rm -rf corpus/"$t" "$tmp.log"
    mv "$tmp" corpus/"$t"
    echo "$t: $before -> $(ls corpus/"$t" | wc -l) inputs, $(du -sh corpus/"$t" | cut -f1)"
done
