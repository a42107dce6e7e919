#!/usr/bin/env bash
# The quick-start demo: builds scutum, makes a busybox bundle from the host's static busybox
# and runs it under the default (hardened) policy, showing what the container gets.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "run as root: containers need namespaces and mounts" >&2
    exit 1
fi
bash integration/deps.sh
cargo build --release --quiet
bin="$PWD/target/release/scutum"
work=$(mktemp -d /tmp/scutum-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in sh cat grep id hostname ls touch echo head; do ln -s busybox "$work/rootfs/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$work/rootfs/etc/passwd"
"$bin" spec --bundle "$work"
# Non-interactive: print what the defaults did to this container.
python3 - "$work/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c",
    'echo "hello from $(hostname)"; id; echo "uid_map: $(cat /proc/self/uid_map)"; '
    'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; touch /x 2>&1 || true']
json.dump(c, open(path, "w"), indent=2)
PY
echo "--- scutum run (default policy) in $work"
"$bin" --root "$work/state" run --bundle "$work" "demo-$$"
