#!/usr/bin/env bash
# Where a scutum CLI call spends its time (benches/PROFILE.md is written from this output).
#
#   benches/profile.sh [SCUTUM_BINARY]     default target/release/scutum
#
# For run, create, start, state, list and delete -f: syscall counts and times (strace -c -f),
# a syscall timeline (strace -f -r -T), kernel time per syscall without strace's overhead
# (perf trace -s), task-clock and page faults (perf stat), and instruction
# counts per function (valgrind --tool=callgrind; valgrind 3.19 has no open_tree and no
# pidfd_open, so create and run are only counted up to open_tree, start and delete -f up to
# pidfd_open). Output: target/bench-results/profile/<name>/, where
# <name> is $PROFILE_NAME or the binary's directory name. Needs root, runc (for `runc spec`),
# busybox-static, strace, linux-perf and valgrind (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

S=$(realpath "${1:-target/release/scutum}")
name=${PROFILE_NAME:-$(basename "$(dirname "$S")")}
out=target/bench-results/profile/$name
reps=${PROFILE_REPS:-50}

[ "$(id -u)" = 0 ] || { echo "profile.sh: must run as root" >&2; exit 1; }
missing=()
command -v runc >/dev/null || missing+=(runc)
command -v strace >/dev/null || missing+=(strace)
command -v perf >/dev/null || missing+=(linux-perf)
command -v valgrind >/dev/null || missing+=(valgrind)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d /run/scutum-profile.XXXXXX)
root=$work/root
sc() { "$S" --root "$root" --policy unconfined "$@"; }
cleanup() {
    local d
    for d in "$root"/*/; do
        [ -d "$d" ] && sc delete -f "$(basename "$d")" >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"
rm -f "$out"/*

# The same bundle as the comparison: busybox-static rootfs, `runc spec`, terminal off,
# read-only root, the rootfs shared by both bundles.
mkdir -p "$work"/rootfs/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$work/rootfs/bin/"
for a in true sleep sh; do ln -s busybox "$work/rootfs/bin/$a"; done
bundle() { # name, JSON argument list
    mkdir -p "$work/$1"
    (cd "$work/$1" && runc spec)
    sed -i -e 's/"terminal": true/"terminal": false/' \
        -e "s|\"path\": \"rootfs\"|\"path\": \"$work/rootfs\"|" \
        -e "s|^\([[:space:]]*\)\"sh\"\$|\1$2|" "$work/$1/config.json"
    if ! grep -q '"terminal": false' "$work/$1/config.json" || ! grep -qF "$2" "$work/$1/config.json"; then
        echo "profile.sh: unexpected runc spec output" >&2
        exit 1
    fi
}
bundle b-true '"/bin/true"'
bundle b-sleep '"/bin/sleep", "86400"'

# create with the init running and blocked on the exec fifo; start it untraced afterwards.
wait_created() {
    local i
    for i in $(seq 200); do
        sc state "$1" 2>/dev/null | grep -q '"created"' && return 0
        sleep 0.01
    done
    echo "profile.sh: $1 never became created" >&2
    return 1
}

echo "== strace -c -f ($S)" >&2
strace -f -c -o "$out/strace-run.txt" "$S" --root "$root" --policy unconfined run -b "$work/b-true" p-run
strace -f -r -T -o "$out/timeline-run.txt" "$S" --root "$root" --policy unconfined run -b "$work/b-true" p-run
# -b execve: the init is let go when it execs the user process after `start`.
strace -f -b execve -c -o "$out/strace-create.txt" "$S" --root "$root" --policy unconfined \
    create -b "$work/b-sleep" p-create >/dev/null 2>&1 &
wait_created p-create
sc start p-create
wait $!
strace -f -b execve -r -T -o "$out/timeline-create.txt" "$S" --root "$root" --policy unconfined \
    create -b "$work/b-sleep" p-create2 >/dev/null 2>&1 &
wait_created p-create2
sc start p-create2
wait $!
sc create -b "$work/b-sleep" p-start >/dev/null 2>&1
strace -f -c -o "$out/strace-start.txt" "$S" --root "$root" --policy unconfined start p-start
strace -f -c -o "$out/strace-state.txt" "$S" --root "$root" --policy unconfined state p-start >/dev/null
strace -f -c -o "$out/strace-list.txt" "$S" --root "$root" --policy unconfined list >/dev/null
strace -f -r -T -o "$out/timeline-state.txt" "$S" --root "$root" --policy unconfined state p-start >/dev/null
strace -f -c -o "$out/strace-delete-f.txt" "$S" --root "$root" --policy unconfined delete -f p-start
sc create -b "$work/b-sleep" p-start >/dev/null 2>&1
sc start p-start
strace -f -r -T -o "$out/timeline-delete-f.txt" "$S" --root "$root" --policy unconfined delete -f p-start
sc delete -f p-create >/dev/null
sc delete -f p-create2 >/dev/null

echo "== perf trace -s (kernel time per syscall, low overhead)" >&2
perf trace -s -o "$out/perf-trace-run.txt" -- "$S" --root "$root" --policy unconfined \
    run -b "$work/b-true" p-trace-run >/dev/null 2>&1
perf trace -s -o "$out/perf-trace-create.txt" -- "$S" --root "$root" --policy unconfined \
    create -b "$work/b-sleep" p-trace >/dev/null 2>&1
perf trace -s -o "$out/perf-trace-start.txt" -- "$S" --root "$root" --policy unconfined start p-trace
perf trace -s -o "$out/perf-trace-delete-f.txt" -- "$S" --root "$root" --policy unconfined delete -f p-trace

echo "== perf stat ($reps runs each)" >&2
sc create -b "$work/b-sleep" p-live >/dev/null 2>&1
sc start p-live
ev=task-clock,page-faults,context-switches
perf stat -r "$reps" -e "$ev" -o "$out/perf-version.txt" "$S" --version >/dev/null
perf stat -r "$reps" -e "$ev" -o "$out/perf-state.txt" "$S" --root "$root" --policy unconfined state p-live >/dev/null
perf stat -r "$reps" -e "$ev" -o "$out/perf-list.txt" "$S" --root "$root" --policy unconfined list >/dev/null
perf stat -r "$reps" -e "$ev" -o "$out/perf-run.txt" "$S" --root "$root" --policy unconfined run -b "$work/b-true" p-perf-run
# create, start and delete -f change the container, so each repetition gets its own id.
for i in $(seq "$reps"); do
    perf stat -e "$ev" -x, --append -o "$out/perf-create.csv" \
        "$S" --root "$root" --policy unconfined create -b "$work/b-sleep" "p-perf-$i" >/dev/null 2>&1
    perf stat -e "$ev" -x, --append -o "$out/perf-start.csv" "$S" --root "$root" --policy unconfined start "p-perf-$i"
    perf stat -e "$ev" -x, --append -o "$out/perf-delete-f.csv" "$S" --root "$root" --policy unconfined delete -f "p-perf-$i"
done
for op in create start delete-f; do
    awk -F, -v op="$op" '$3 ~ /task-clock|page-faults|context-switches/ { s[$3] += $1; n[$3]++ }
        END { for (k in s) printf "%s %s: mean %.3f over %d runs\n", op, k, s[k] / n[k], n[k] }' \
        "$out/perf-$op.csv" | sort >"$out/perf-$op.txt"
done

echo "== callgrind" >&2
cg() { # label, scutum arguments...
    local label=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind-$label.out" "$S" "$@" \
        >/dev/null 2>"$out/callgrind-$label.log" || true
    callgrind_annotate --inclusive=yes "$out/callgrind-$label.out" 2>/dev/null | head -80 \
        >"$out/callgrind-$label.txt" || true
}
cg version --version
cg state --root "$root" --policy unconfined state p-live
cg list --root "$root" --policy unconfined list
# valgrind 3.19 has no pidfd_open either: start then fails at that call, and delete -f removes
# the state without killing the init (it cannot open a pidfd). Both counts are partial, and
# the init is killed here by pid, after checking it is still this script's create.
sc create -b "$work/b-sleep" --pid-file "$work/p-cg.pid" p-cg >/dev/null 2>&1
cg start --root "$root" --policy unconfined start p-cg
cg delete-f --root "$root" --policy unconfined delete -f p-cg
pid=$(cat "$work/p-cg.pid")
if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$root"; then
    kill -KILL "$pid"
fi
cg run-partial --root "$root" --policy unconfined run -b "$work/b-true" p-cg-run
sc delete -f p-cg-run >/dev/null 2>&1 || true
sc delete -f p-live >/dev/null

for f in "$out"/callgrind-*.log; do
    printf '%s: %s\n' "$(basename "$f" .log)" "$(grep -o 'refs: *[0-9,]*' "$f" | tr -s ' ')"
done | tee "$out/instructions.txt"
echo "profile.sh: wrote $out" >&2
