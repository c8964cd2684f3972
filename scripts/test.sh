#!/usr/bin/env bash
# Installs what is missing, builds everything, runs the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
"$root/scripts/build.sh"
build="${METAADAMW_BUILD_DIR:-$root/build}"
ctest --test-dir "$build" --output-on-failure -j "${METAADAMW_JOBS:-2}"
