#!/usr/bin/env bash
# Builds and runs the optimizer microbenchmarks once, and Python's torch.optim.AdamW on the
# same shapes; prints the ratio tables that
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
# Python's torch.optim.AdamW (foreach) on the same shapes: Debian's python3-torch.
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q python3-torch >/dev/null; else sudo apt-get install -y -q python3-torch >/dev/null; fi
fi
/usr/bin/python3 "$root/tests/bench/torch_adamw.py" --threads "${METAADAMW_THREADS:-2}" \
  >"$build/bench/torch_adamw.json"
/usr/bin/python3 "$root/tests/bench/report.py" "$build/bench/optim_bench.json" \
  "$build/bench/torch_adamw.json"
