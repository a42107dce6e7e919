#!/usr/bin/env bash
# cgroup v2 tests inside the throw-away qemu VM (integration/vm): every tests/*_vm.rs binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash integration/vm/prepare.sh
export SCUTUM_REQUIRE_VM=1
runner="$PWD/integration/vm/run-in-vm.sh"
for t in tests/*vm*.rs; do
    name=$(basename "$t" .rs)
    echo "--- $name (in the VM)"
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$runner" cargo test --test "$name"
done
