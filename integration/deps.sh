#!/usr/bin/env bash
# Installs the Debian packages the tests and demos need, once (idempotent).
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in busybox-static file gcc libc6-dev runc crun containerd umoci hyperfine qemu-system-x86 xz-utils e2fsprogs iproute2 strace; do
    have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
