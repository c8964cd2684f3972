#!/usr/bin/env bash
# The optimizer-step benchmark of BENCHMARKS.md, in one run: builds and runs
# metaadamw_optim_bench (5 repetitions, medians) on the kernel variant this CPU chooses,
# then every other variant it can run (forced with METAADAMW_CPU_ISA, the main step
# benchmarks only), then the peers on the same shapes:
#   - Python's torch.optim.AdamW on the host (foreach, for-loop; fused where torch >= 2.4);
#   - PyTorch >= 2.4's fused CPU AdamW: the host's python3 when its torch is new enough,
#     else the Debian 13 environment (scripts/debian13-env.sh; made here when missing,
#     as root; METAADAMW_NO_PEER=1 skips it);
#   - where that environment has a LibTorch 2.x build of the benchmark (build-trixie,
#     made with METAADAMW_BENCH_LIBTORCH2=1), ours beside at::_fused_adamw_.
# Prints the tables (tests/bench/report.py) and exits non-zero when a target is missed
# (1) or the fused peer could not be measured (3). JSON kept in build/bench/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
out="$build/bench"
"$root/packaging/install-deps.sh" --bench
"$root/scripts/build.sh" --target metaadamw_optim_bench
mkdir -p "$out"
bench="$build/tests/bench/metaadamw_optim_bench"
threads="${METAADAMW_THREADS:-2}"

"$bench" --benchmark_out="$out/optim_bench.json" --benchmark_out_format=json \
  --benchmark_repetitions=5 --benchmark_min_time=0.5 --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true "$@"

# The other variants this CPU runs (the default one is in the run above).
report_args=()
ctx() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["context"].get(sys.argv[2],""))' "$@"; }
default=$(ctx "$out/optim_bench.json" cpu_isa)
for isa in avx512 avx2 baseline; do
  case "$isa:$default" in avx512:avx512f | avx2:avx2+fma | baseline:baseline*) continue ;; esac
  json="$out/optim_bench_$isa.json"
  METAADAMW_CPU_ISA=$isa "$bench" --benchmark_filter='BM_(Copy|OurAdamW|MetaAdamWStep)/' \
    --benchmark_out="$json" --benchmark_out_format=json --benchmark_repetitions=3 \
    --benchmark_min_time=0.3 --benchmark_report_aggregates_only=true >/dev/null 2>&1
  # (a variant this CPU cannot run is refused with a message and the default runs: skipped)
  [ "$(ctx "$json" cpu_isa)" != "$default" ] && report_args+=(--variant "$json")
done

# Python's torch.optim.AdamW on the host (Debian 12: torch 1.13, no fused CPU kernel).
/usr/bin/python3 "$root/tests/bench/torch_adamw.py" --threads "$threads" >"$out/torch_adamw.json"
report_args+=(--python "$out/torch_adamw.json")
host_fused=$(/usr/bin/python3 -c 'import torch; v=tuple(int(x) for x in torch.__version__.split(".")[:2]); print(int(v >= (2, 4)))')

# The fused peer from Debian 13 when the host has no torch >= 2.4.
env13="$root/scripts/debian13-env.sh"
if [ "$host_fused" != 1 ] && [ "${METAADAMW_NO_PEER:-0}" != 1 ]; then
  if ! "$env13" has-torch && [ "$(id -u)" = 0 ]; then
    "$env13" setup
  fi
  if "$env13" has-torch; then
    "$env13" run python3 tests/bench/torch_adamw.py --threads "$threads" \
      >"$out/torch_adamw_peer.json" 2>"$out/torch_adamw_peer.err"
    report_args+=(--peer "$out/torch_adamw_peer.json")
  else
    echo "bench.sh: PyTorch's fused AdamW not measured (no torch >= 2.4; run as root, or" \
      "scripts/debian13-env.sh setup)" >&2
  fi
fi

# Ours beside at::_fused_adamw_, built against Debian 13's LibTorch 2.6.
if [ "${METAADAMW_BENCH_LIBTORCH2:-0}" = 1 ]; then
  "$env13" setup --build-deps
  "$env13" run env METAADAMW_BUILD_DIR="$root/build-trixie" \
    METAADAMW_CMAKE_ARGS=-DMETAADAMW_BUILD_GUI=OFF scripts/build.sh --target metaadamw_optim_bench
  "$env13" run build-trixie/tests/bench/metaadamw_optim_bench \
    --benchmark_filter='BM_(OurAdamW|OurAdamWComposite|AtenFusedAdamW)/' \
    --benchmark_out="$out/optim_bench_libtorch2.json" --benchmark_out_format=json \
    --benchmark_repetitions=5 --benchmark_min_time=0.5 --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true >/dev/null
  report_args+=(--libtorch2 "$out/optim_bench_libtorch2.json")
fi

/usr/bin/python3 "$root/tests/bench/report.py" "$out/optim_bench.json" "${report_args[@]}"
