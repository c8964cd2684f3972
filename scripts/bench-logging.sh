#!/usr/bin/env bash
# Logging overhead (issue step 4, item 7): MetaAdamW on the image task's small preset with
# a snapshot (features, factors) every step and attention every 10 steps, with and
# without --log, in interleaved pairs. Prints, per pair, the wall time per step and
# their ratio (noisy on a shared machine), and from each log the cost measured directly:
# the writer thread's CPU time and the engine thread's time handing records over, as a
# fraction of the logged run's wall time (on 2 cores shared with a 2-thread engine, the
# writer's CPU is time the engine loses at worst).
# Usage: scripts/bench-logging.sh [STEPS=300] [PAIRS=3] [THREADS=2]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw"
steps=${1:-300} pairs=${2:-3} threads=${3:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(train --task image --preset small --optimizer metaadamw --steps "$steps"
        --threads "$threads" --quiet --json --set snapshot_every=1 --set attention_every=10)
for k in $(seq 1 "$pairs"); do
  # Alternate which goes first, so that drift in the machine's speed cancels.
  if [ $((k % 2)) -eq 1 ]; then order="plain log"; else order="log plain"; fi
  for kind in $order; do
    if [ "$kind" = log ]; then
      "$cli" "${common[@]}" --log "$out/run$k.h5" > "$out/log$k.json"
    else
      "$cli" "${common[@]}" > "$out/plain$k.json"
    fi
  done
done
/usr/bin/python3 - "$out" "$pairs" "$cli" <<'PY'
import json, os, statistics, subprocess, sys
out, pairs, cli = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ratios, shares = [], []
print(f"{'pair':>4} {'plain ms/step':>14} {'logged ms/step':>15} {'ratio':>7} {'log MB':>7}"
      f" {'writer CPU s':>13} {'enqueue s':>10} {'cost/wall':>10}")
for k in range(1, pairs + 1):
    p = json.load(open(f"{out}/plain{k}.json"))
    l = json.load(open(f"{out}/log{k}.json"))
    ps = 1e3 * p["wall_time_s"] / p["steps"]
    ls = 1e3 * l["wall_time_s"] / l["steps"]
    ratios.append(ls / ps)
    mb = os.path.getsize(f"{out}/run{k}.h5") / 1e6
    a = json.loads(subprocess.run([cli, "inspect", "--json", f"{out}/run{k}.h5"],
                                  capture_output=True, text=True, check=True).stdout)["attributes"]
    cpu, enq = float(a["log_writer_cpu_s"]), float(a["log_enqueue_s"])
    shares.append((cpu + enq) / l["wall_time_s"])
    print(f"{k:>4} {ps:>14.2f} {ls:>15.2f} {ls / ps:>7.4f} {mb:>7.2f} {cpu:>13.3f} {enq:>10.4f}"
          f" {100 * shares[-1]:>9.2f}%")
print(f"median wall ratio logged/plain: {statistics.median(ratios):.4f} "
      f"(min {min(ratios):.4f}, max {max(ratios):.4f})")
print(f"median measured cost (writer CPU + enqueue) / wall: {100 * statistics.median(shares):.2f}%"
      f" (target <= 2%)")
PY
"$cli" inspect "$out/run1.h5" | sed -n '1,4p;/^series/,$p' | grep -E "run log|status|snapshots/features|attention/probs|events"
bp=$("$cli" export "$out/run1.h5" --csv "$out/csv" 2>/dev/null; grep -c backpressure "$out/csv/events.csv" || true)
echo "backpressure events in the first log: $bp"
