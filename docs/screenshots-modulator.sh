#!/usr/bin/env bash
# The screenshots of docs/MODULATOR.md: the Modulation panel (α, and β for the paper design)
# and Meta's diagnostics page for the learning and the paper design, from the seed-0 logs of
# the modulator study (scripts/study-modulator.sh) — no run is started. Each picture opens
# AdamW's log (for the table's ratio to AdamW's η) and both designs' logs; the design named
# second is the one the panels show (the first MetaAdamW run opened). Panels at 1600×560 in a
# 1600×1000 window, under a virtual X display (xvfb).
#   docs/screenshots-modulator.sh [TASK ...]   (default: image sentiment; a task whose logs
#                                               are not all there is skipped)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
studio="${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw-studio"
logs="$root/results/modulator"
out="$root/docs/screenshots"
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=(image sentiment)
export XDG_CONFIG_HOME="$(mktemp -d)"  # the default layout, not a user's
tmp="$(mktemp -d)"
trap 'rm -rf "$XDG_CONFIG_HOME" "$tmp"' EXIT
for task in "${tasks[@]}"; do
  suffix=$([ "$task" = image ] && echo "" || echo "-$task")
  for pair in "learning paper" "paper learning"; do
    read -r design other <<<"$pair"
    files=("$logs/$task-adamw-seed0.h5" "$logs/$task-$design-seed0.h5" "$logs/$task-$other-seed0.h5")
    for f in "${files[@]}"; do
      if [ ! -f "$f" ]; then
        echo "skipping $task: no $f (yet)" >&2
        continue 3
      fi
    done
    xvfb-run -a -s "-screen 0 1600x1000x24" "$studio" -geometry 1600x1000+0+0 \
      --panel-size 1600x560 "${files[@]}" --screenshots "$tmp/$task-$design"
    cp "$tmp/$task-$design/modulation.png" "$out/modulation-$design$suffix.png"
    cp "$tmp/$task-$design/meta-diagnostics.png" "$out/meta-diagnostics-$design$suffix.png"
    if [ "$design" = paper ]; then  # β: pinned at a bound, or moved by its inputs only
      cp "$tmp/$task-$design/modulation-beta.png" "$out/modulation-paper-beta$suffix.png"
    fi
  done
done
ls -1 "$out"/modulation-* "$out"/meta-diagnostics-*
