#!/usr/bin/env bash
# Screenshots of every studio panel after a short comparison (image task, tiny preset,
# AdamW vs MetaAdamW), under a virtual X display: docs/screenshots/*.png, and again with
# the dark palette: docs/screenshots/dark/*.png. `docs/screenshots.sh --probes` also remakes
# trajectory-landscape-1366x768.png (the probes after a default comparison).
# Needs the built studio (scripts/build.sh) and xvfb (packaging/install-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
studio="${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw-studio"
out="$root/docs/screenshots"
mkdir -p "$out"
# A settings folder of its own: the window layout is the default one, not a user's.
export XDG_CONFIG_HOME="$(mktemp -d)"
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
xvfb-run -a -s "-screen 0 1920x1080x24" \
  "$studio" --config "$root/resources/configs/studio-screenshots.json" --screenshots "$out"
# The Study panel with the committed image evidence (its JSON: no logs needed).
study="$(mktemp -d)"
xvfb-run -a -s "-screen 0 1920x1080x24" "$studio" --screenshots "$study" "$root/results/evidence/image"
cp "$study/study.png" "$out/study.png"
rm -rf "$study"
# The same on a dark desktop (every plot takes its colours from the palette), on a laptop's
# screen, with steps 30–60 selected in Curves (the other panels show that range).
mkdir -p "$out/dark"
xvfb-run -a -s "-screen 0 1366x768x24" \
  "$studio" --palette dark --config "$root/resources/configs/studio-screenshots.json" \
  --select-steps 30:60 --screenshots "$out/dark"
ls -1 "$out" "$out/dark"
# The Trajectory panel after the probes, at a laptop's size (with --probes: ~8 min here): the
# default comparison's runs (image, small), the landscape computed around MetaAdamW's end
# (25 × 25, contours) and the line from its final parameters to AdamW's.
if [ "${1:-}" = "--probes" ]; then
  cli="${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw"
  runs="$(mktemp -d)"
  "$cli" compare --task image --preset small --log-dir "$runs/cmp" -q
  "$cli" landscape "$runs/cmp/metaadamw-seed0.h5" --grid 25
  "$cli" interpolate "$runs/cmp/metaadamw-seed0.h5" "$runs/cmp/adamw-seed0.h5"
  xvfb-run -a -s "-screen 0 1366x768x24" "$studio" --panel-size 1366x768 \
    --screenshots "$runs/shots" "$runs/cmp/adamw-seed0.h5" "$runs/cmp/metaadamw-seed0.h5"
  cp "$runs/shots/trajectory.png" "$out/trajectory-landscape-1366x768.png"
  rm -rf "$runs"
fi
# A laptop's screen, 10 s after Start of the default comparison (image, small, side by
# side): both optimizers' curves grow together (needs ImageMagick's import for the grab).
if command -v import > /dev/null; then
  cat > "$XDG_CONFIG_HOME/live.sh" << SH
#!/usr/bin/env bash
"$studio" --start > /dev/null 2>&1 &
sleep 10
import -window root "$out/live-1366x768.png"
kill \$!
# The same with the Trajectory panel in front: both optimizers' paths on one plane.
"$studio" --start --show trajectory > /dev/null 2>&1 &
sleep 12
import -window root "$out/live-trajectory-1366x768.png"
kill \$!
SH
  chmod +x "$XDG_CONFIG_HOME/live.sh"
  xvfb-run -a -s "-screen 0 1366x768x24" "$XDG_CONFIG_HOME/live.sh"
fi
