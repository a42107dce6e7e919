#!/usr/bin/env bash
# The benchmark harness in quick mode: every operation of scutum, runc and crun a few times on
# the same bundles, so the harness keeps working. It fails only when an operation errors or
# leaves something behind, never on a time (speed is measured, not asserted).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash benches/run.sh --quick
