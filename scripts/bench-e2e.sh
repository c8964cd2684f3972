#!/usr/bin/env bash
# End-to-end cost: MetaAdamW / AdamW time per epoch for every task's `small` preset at the
# paper's K and at K = 1, 10, 100 (tests/bench/e2e.py says how it is composed from the
# CLI's own timers). Usage: scripts/bench-e2e.sh [STEPS] [extra e2e.py options]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
steps="${1:-200}"
shift || true
"$root/packaging/install-deps.sh"
"$root/scripts/build.sh" --target metaadamw
mkdir -p "$build/bench"
/usr/bin/python3 "$root/tests/bench/e2e.py" --cli "$build/app/metaadamw" --steps "$steps" \
  --json "$build/bench/e2e.json" "$@"
