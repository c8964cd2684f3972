#!/usr/bin/env bash
# RESULTS.md: `compare --seeds 3` on every task's `small` preset, one task after another,
# each study's JSON kept in results/<task>-small.json; then the tables. Usage:
#   scripts/results.sh [TASK ...]        (default: all five)
# Extra compare options can be given in METAADAMW_RESULTS_ARGS.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=(image lm translation sentiment forecasting)
mkdir -p "$root/results"
for t in "${tasks[@]}"; do
  echo "== $t" >&2
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$build/app/metaadamw" compare --task "$t" --preset small --seeds 3 --json \
    ${METAADAMW_RESULTS_ARGS:-} > "$root/results/$t-small.json.tmp" 2> "$root/results/$t-small.log"
  mv "$root/results/$t-small.json.tmp" "$root/results/$t-small.json"
  echo "$t: $(( $(date +%s) - start )) s" >&2
done
/usr/bin/python3 "$root/scripts/results_table.py" "$root"/results/*-small.json
