#!/usr/bin/env bash
# Builds the scutum binary to install and benchmark: a static, position-independent executable
# (ASLR kept). musl first: it starts fastest and keeps the peak RSS of every call under 2 MiB;
# glibc with crt-static when the musl target cannot be added. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
musl=x86_64-unknown-linux-musl
gnu=x86_64-unknown-linux-gnu
if rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl" >/dev/null 2>&1; then
    cargo build --release --quiet --target "$musl" >&2
    echo "$PWD/target/$musl/release/scutum"
else
    echo "build-release: the musl target is not available; building a static glibc binary" >&2
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --quiet --target "$gnu" >&2
    echo "$PWD/target/$gnu/release/scutum"
fi
