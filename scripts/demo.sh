#!/usr/bin/env bash
# The main job: installs what is missing (Fashion-MNIST included), builds, and compares
# AdamW with MetaAdamW on the image task (a ResNet on Fashion-MNIST, `small` preset: one
# epoch, a few minutes on 2 cores). With a display: MetaAdamW Studio opens with that
# comparison set up (press Start, F5). Without one (or with --headless): the CLI runs
# it; extra arguments go to `metaadamw compare` (e.g. --seeds 3, --task sentiment).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
"$root/packaging/install-deps.sh" --data
headless=0
if [ "${1:-}" = "--headless" ]; then headless=1; shift; fi
if [ $headless -eq 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  "$root/scripts/build.sh" --target metaadamw-studio
  exec "$build/app/metaadamw-studio" "$@"
fi
"$root/scripts/build.sh" --target metaadamw
exec "$build/app/metaadamw" compare --task image --preset small "$@"
