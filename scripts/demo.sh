#!/usr/bin/env bash
# The main job, headless: installs what is missing, builds the CLI, and compares the
# optimizers on the built-in synthetic task. Extra arguments go to `metaadamw compare`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
"$root/scripts/build.sh" --target metaadamw
build="${METAADAMW_BUILD_DIR:-$root/build}"
exec "$build/app/metaadamw" compare --task synthetic --preset small "$@"
