#!/usr/bin/env bash
# Builds the scutum binary to install and benchmark: a static, position-independent executable
# (ASLR kept). musl first: it starts fastest and, linked with the hot functions together (see
# build.rs), keeps the peak RSS of every call under 2 MiB; glibc with crt-static when the musl
# target cannot be added. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
musl=x86_64-unknown-linux-musl
gnu=x86_64-unknown-linux-gnu
if rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl" >/dev/null 2>&1; then
    bin=target/$musl/release/scutum
    order=$PWD/target/link-order.txt
    [ -e "$order" ] || : >"$order"
    # Two links when the hot list changes: the exact symbol names come from this build's
    # symbol table. benches/link-order.txt names symbols with rustc's hash, which changes with
    # compiler and crate versions; a listed function none of whose names is in this build is
    # matched without the hash instead (all its instantiations: coarser, but still together).
    SCUTUM_LINK_ORDER=$order cargo build --release --quiet --target "$musl" >&2
    new=$(mktemp)
    nm "$bin" | awk '
        NR == FNR {
            if ($1 !~ /^#/ && $1 != "") { exact[$1] = 1; k = $1; sub(/17h[0-9a-f]+E$/, "", k); key[k] = 1 }
            next
        }
        $2 ~ /^[tTwW]$/ {
            n++; name[n] = $3; k = $3; sub(/17h[0-9a-f]+E$/, "", k); skey[n] = k
            if ($3 in exact) found[k] = 1
        }
        END {
            for (i = 1; i <= n; i++)
                if ((name[i] in exact) || ((skey[i] in key) && !(skey[i] in found))) print name[i]
        }' benches/link-order.txt - >"$new"
    if ! cmp -s "$new" "$order"; then
        mv "$new" "$order"
        SCUTUM_LINK_ORDER=$order cargo build --release --quiet --target "$musl" >&2
    else
        rm -f "$new"
    fi
    echo "$PWD/$bin"
else
    echo "build-release: the musl target is not available; building a static glibc binary" >&2
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --quiet --target "$gnu" >&2
    echo "$PWD/target/$gnu/release/scutum"
fi
