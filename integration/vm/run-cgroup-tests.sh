#!/usr/bin/env bash
# Runs scutum's cgroup v2 enforcement tests (tests/cgroups_vm.rs) inside the pure
# cgroup v2 qemu VM (integration/vm/README.md): builds the test binary on the host,
# then cargo runs it through run-in-vm.sh, one VM boot for the whole binary.
#
#   integration/vm/run-cgroup-tests.sh [LIBTEST-ARGS...]   (a name filter, --nocapture, ...)
#
# SCUTUM_REQUIRE_VM=1 is set, so a test that finds itself outside the VM fails
# instead of skipping. Exit status: cargo's (the VM job's status).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"

# Idempotent, about 0.5 s when everything is in place; the first run downloads
# Debian's kernel package and builds the initramfs.
bash integration/vm/prepare.sh --no-check

export SCUTUM_REQUIRE_VM=1
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$ROOT/integration/vm/run-in-vm.sh
# Two test threads for the VM's two vCPUs; timing checks have wide margins.
exec cargo test --test cgroups_vm -- --test-threads=2 "$@"
