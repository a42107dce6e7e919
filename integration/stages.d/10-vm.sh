#!/usr/bin/env bash
# Tests that need a pure cgroup v2 kernel (or Debian 12's own kernel), run inside the throw-away
# qemu VM (integration/vm): every tests/*_vm.rs binary, then the parts of the escape suite whose
# attack the host's newer kernel already blocks by itself (CVE-2019-5736 needs Linux 6.1 to be
# live). Bundles go to the VM's ext4 scratch disk, which supports idmapped mounts on 6.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash integration/vm/prepare.sh --no-check
export SCUTUM_REQUIRE_VM=1
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$PWD/integration/vm/run-in-vm.sh env TMPDIR=/scratch"
for t in tests/vm_selftest.rs tests/*_vm.rs; do
    name=$(basename "$t" .rs)
    echo "--- $name (in the VM)"
    cargo test --test "$name" -- --test-threads=2
done
echo "--- escapes: cve_2019_5736 (in the VM, Linux 6.1)"
cargo test --test escapes cve_2019_5736 -- --test-threads=1
