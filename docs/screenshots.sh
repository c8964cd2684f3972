#!/usr/bin/env bash
# Screenshots of every studio panel after a short comparison (image task, tiny preset,
# AdamW vs MetaAdamW), under a virtual X display: docs/screenshots/*.png.
# Needs the built studio (scripts/build.sh) and xvfb (packaging/install-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
studio="${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw-studio"
out="$root/docs/screenshots"
mkdir -p "$out"
# A settings folder of its own: the window layout is the default one, not a user's.
export XDG_CONFIG_HOME="$(mktemp -d)"
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$studio" --config "$root/resources/configs/studio-screenshots.json" --screenshots "$out"
ls -1 "$out"
