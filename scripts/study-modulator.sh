#!/usr/bin/env bash
# The modulator study of RESULTS.md ("Does the learning modulator change the outcome?"):
# AdamW, MetaAdamW with the learning design and with the paper's design, on the small
# presets, seeds 0-2, K chosen so that every run holds at least 20 meta-updates. Resumable:
# a finished run (its JSON summary and HDF5 log in results/modulator/) is skipped, so an
# interrupted study continues where it stopped. Then the table (scripts/study_table.py).
#   scripts/study-modulator.sh [TASK ...]      (default: image sentiment)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
out="$root/results/modulator"
mkdir -p "$out"
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=(image sentiment)
k_of() {  # ≥ 20 meta-updates in the small preset's length
  case "$1" in
    image) echo 20 ;;        # 421 steps → 21
    sentiment) echo 20 ;;    # 7 epochs × 68 steps = 476 → 23
    lm | translation) echo 25 ;;  # 600 steps → 24
    forecasting) echo 15 ;;  # 15 epochs × 28 steps = 420 → 28
  esac
}
for t in "${tasks[@]}"; do
  k=$(k_of "$t")
  for seed in 0 1 2; do
    for variant in adamw learning paper; do
      name="$t-$variant-seed$seed"
      [ -f "$out/$name.json" ] && [ -f "$out/$name.h5" ] && continue  # finished
      if [ "$variant" = adamw ]; then
        args=(--optimizer adamw)
      else
        args=(--optimizer metaadamw --set modulator_design="$variant" --set meta_update_freq="$k"
              --set snapshot_every=10)
      fi
      echo "== $name" >&2
      "$build/app/metaadamw" train --task "$t" --preset small --seed "$seed" "${args[@]}" \
        --log "$out/$name.h5.tmp" --overwrite --json > "$out/$name.json.tmp"
      mv "$out/$name.h5.tmp" "$out/$name.h5"
      mv "$out/$name.json.tmp" "$out/$name.json"
    done
  done
done
/usr/bin/python3 "$root/scripts/study_table.py" "$out"
