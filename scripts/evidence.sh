#!/usr/bin/env bash
# The evidence study (issue step 11): `metaadamw study` on the five real tasks — AdamW
# tuned on the validation split, MetaAdamW at its η, λ, both on 5 fresh seeds — then
# `metaadamw report` over them (Holm across the tasks). Unattended and resumable: rerun
# it after an interruption and it continues every task where it stopped (finished runs are
# read back, never repeated).
#
#   scripts/evidence.sh [TASK...]     default: image lm translation sentiment forecasting
#
# The logs (one HDF5 file per run) go to $METAADAMW_EVIDENCE_DIR (default
# ~/metaadamw-evidence); the JSON indexes are copied to results/evidence/TASK/ and the
# report to results/evidence/report.{md,json}, which RESULTS.md quotes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw"
[ -x "$cli" ] || "$root/scripts/build.sh" --target metaadamw
logs="${METAADAMW_EVIDENCE_DIR:-$HOME/metaadamw-evidence}"
out="$root/results/evidence"
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(image lm translation sentiment forecasting)
mkdir -p "$logs" "$out"
for task in "${tasks[@]}"; do
  dir="$logs/$task"
  more=()
  [ -f "$dir/protocol.json" ] && more=(--continue)
  start=$(date +%s)
  echo "== $task → $dir ${more[*]}" >&2
  status=0
  "$cli" study --task "$task" --log-dir "$dir" --quiet "${more[@]}" || status=$?
  echo "== $task: exit $status after $(( $(date +%s) - start )) s" >&2
  mkdir -p "$out/$task"
  cp "$dir/protocol.json" "$out/$task/"
  for phase in tune-adamw tune-metaadamw compare; do
    [ -f "$dir/$phase/study.json" ] && cp "$dir/$phase/study.json" "$out/$task/$phase.json"
  done
  [ "$status" = 0 ] || exit "$status"
done
done_dirs=()
for task in image lm translation sentiment forecasting; do
  [ -f "$logs/$task/protocol.json" ] && grep -q '"complete": true' "$logs/$task/protocol.json" &&
    done_dirs+=("$logs/$task")
done
if [ ${#done_dirs[@]} -gt 0 ]; then
  "$cli" report "${done_dirs[@]}" > "$out/report.md"
  "$cli" report --json "${done_dirs[@]}" > "$out/report.json"
  cat "$out/report.md"
fi
