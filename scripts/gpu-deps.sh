#!/usr/bin/env bash
# Copies what scripts/gpu-check.sh needs from this Debian machine into .gpu-deps/ (git
# ignores it): nlohmann-json (headers + CMake config) and the GoogleTest sources.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
d="$root/.gpu-deps"
rm -rf "$d" && mkdir -p "$d/include" "$d/share/cmake"
cp -r /usr/include/nlohmann "$d/include/"
cp -r /usr/share/cmake/nlohmann_json "$d/share/cmake/"
cp -r /usr/src/googletest "$d/googletest"
du -sh "$d"
