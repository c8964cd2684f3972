#!/usr/bin/env bash
# Builds and runs the optimizer microbenchmarks once; prints the ratio table that
# BENCHMARKS.md records (JSON kept in build/bench/optim_bench.json).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
"$root/packaging/install-deps.sh"
"$root/scripts/build.sh" --target metaadamw_optim_bench
mkdir -p "$build/bench"
"$build/tests/bench/metaadamw_optim_bench" --benchmark_out="$build/bench/optim_bench.json" \
  --benchmark_out_format=json --benchmark_repetitions=5 --benchmark_min_time=0.5 \
  --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true "$@"
/usr/bin/python3 "$root/tests/bench/report.py" "$build/bench/optim_bench.json"
