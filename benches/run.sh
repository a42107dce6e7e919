#!/usr/bin/env bash
# Compare scutum with runc and crun on this machine, in one run (see benches/README.md).
#
#   benches/run.sh            full run: 100 rounds per operation, 200-container churn, then the
#                             criterion micro-benchmarks (about 5 minutes on 2 vCPUs)
#   benches/run.sh --quick    CI smoke test: every operation a few times, micro-benchmarks once
#                             each; fails only if an operation errors, never on a time
#
# Needs root. Installs runc, crun and busybox-static with apt-get when they are missing, builds
# scutum (release), and writes target/bench-results/compare{,-quick}.{md,json}.
set -euo pipefail

quick=()
for arg in "$@"; do
    case "$arg" in
        --quick) quick=(--quick) ;;
        -h | --help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "run.sh: unknown argument $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: must run as root (the runtimes create namespaces and mounts)" >&2
    exit 1
fi

# The rootfs needs a statically linked busybox: Debian's busybox-static (/bin/busybox). The
# driver checks the binary itself (no PT_INTERP) and says so if it is not static.
have_pkg() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
command -v runc >/dev/null || missing+=(runc)
command -v crun >/dev/null || missing+=(crun)
have_pkg busybox-static || missing+=(busybox-static)
command -v unshare >/dev/null || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "run.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The binary users install (integration/build-release.sh: static musl, else static glibc).
SCUTUM_BIN=${SCUTUM_BIN:-$(bash integration/build-release.sh)}
export SCUTUM_BIN
echo "run.sh: measuring $SCUTUM_BIN" >&2
cargo bench --bench compare -- "${quick[@]}"

if [ "${#quick[@]}" -gt 0 ]; then
    # criterion's test mode: each micro-benchmark runs once, so CI notices one that breaks.
    cargo bench --bench micro -- --test
else
    cargo bench --bench micro
fi
