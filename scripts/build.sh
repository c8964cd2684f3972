#!/usr/bin/env bash
# Configures and builds into ./build (or $METAADAMW_BUILD_DIR). Extra arguments go to the
# build step (e.g. a target: scripts/build.sh --target metaadamw).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
jobs="${METAADAMW_JOBS:-2}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMETAADAMW_BUILD_BENCHMARKS=ON ${METAADAMW_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build" -j "$jobs" "$@"
