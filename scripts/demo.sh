#!/usr/bin/env bash
# The main job, headless: installs what is missing (Fashion-MNIST included), builds the
# CLI, and compares AdamW with MetaAdamW on the image task (a ResNet on Fashion-MNIST,
# `small` preset: one epoch, a few minutes on 2 cores). Extra arguments go to
# `metaadamw compare` (e.g. --seeds 3, --task sentiment).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh" --data
"$root/scripts/build.sh" --target metaadamw
build="${METAADAMW_BUILD_DIR:-$root/build}"
exec "$build/app/metaadamw" compare --task image --preset small "$@"
