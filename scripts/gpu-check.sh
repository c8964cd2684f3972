#!/usr/bin/env bash
# GPU check: builds engine, CLI and tests with no Qt against a CUDA LibTorch (the one in
# an installed PyTorch), runs the test suite, and runs MetaAdamW on CUDA beside the CPU.
# Writes gpu-check.json (and logs) into $OUT (default ./gpu-check-out).
#
# Hosts with no Debian packages (the GPU machines here): bring nlohmann-json and the
# GoogleTest sources in .gpu-deps/ (scripts/gpu-deps.sh makes it on a Debian machine).
# HDF5 (the run logs): the host's own when CMake finds one (libhdf5-dev, a conda
# environment: set HDF5_ROOT), else Debian's, brought in .gpu-deps/hdf5 by gpu-deps.sh
# (headers, libraries and the non-system libraries they load; needs glibc >= 2.34 there).
# Google Benchmark likewise (.gpu-deps/benchmark); without it the microbenchmarks are
# skipped and the JSON says so.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${OUT:-$root/gpu-check-out}"
build="${GPU_BUILD_DIR:-/tmp/metaadamw-gpu-build}"
mkdir -p "$out"
py="${PYTHON:-python3}"
torch_prefix="$($py -c 'import torch;print(torch.utils.cmake_prefix_path)')" || {
  echo "gpu-check: no PyTorch for $py (set PYTHON)"; exit 1; }
prefix="$torch_prefix"
extra=()
if [ -d "$root/.gpu-deps" ]; then
  prefix="$prefix;$root/.gpu-deps"
  extra+=("-DMETAADAMW_GTEST_SOURCE_DIR=$root/.gpu-deps/googletest")
  if [ -z "${HDF5_ROOT:-}" ] && [ -d "$root/.gpu-deps/hdf5" ] && ! ldconfig -p | grep -q libhdf5; then
    export HDF5_ROOT="$root/.gpu-deps/hdf5"
    export LD_LIBRARY_PATH="$HDF5_ROOT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  if [ -d "$root/.gpu-deps/benchmark" ]; then
    extra+=("-Dbenchmark_DIR=$root/.gpu-deps/benchmark/lib/x86_64-linux-gnu/cmake/benchmark")
    export LD_LIBRARY_PATH="$root/.gpu-deps/benchmark/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
bench=OFF
if [ -d "$root/.gpu-deps/benchmark" ] || [ -f /usr/include/benchmark/benchmark.h ]; then bench=ON; fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt" 2>&1
echo "GPU: $(cat "$out/gpu.txt")"
t0=$(date +%s)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMETAADAMW_BUILD_GUI=OFF \
  -DMETAADAMW_BUILD_BENCHMARKS=$bench -DMETAADAMW_WERROR=OFF -DCMAKE_PREFIX_PATH="$prefix" \
  "${extra[@]}" > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" > "$out/build.log" 2>&1 || {
  grep -E "error|Error" -A3 "$out/build.log" | head -60; exit 1; }
t1=$(date +%s)
echo "built in $((t1 - t0)) s"
"$build/tests/metaadamw_tests" --gtest_brief=1 > "$out/unit-tests.log" 2>&1
unit_rc=$?
tail -5 "$out/unit-tests.log"
cli="$build/app/metaadamw"
"$cli" --version | tee "$out/version.txt"
run() {  # device optimizer → JSON summary
  "$cli" train --task synthetic --preset small --device "$1" --optimizer "$2" --seed 1 \
    --set meta_update_freq=100 --json --quiet 2> "$out/train-$1-$2.err"
}
# The optimizer microbenchmarks (CPU shapes and kernels; ratios as in BENCHMARKS.md).
bench_json=null
if [ "$bench" = ON ] && [ -x "$build/tests/bench/metaadamw_optim_bench" ]; then
  "$build/tests/bench/metaadamw_optim_bench" --benchmark_out="$out/optim_bench.json" \
    --benchmark_out_format=json --benchmark_repetitions=3 --benchmark_min_time=0.3 \
    --benchmark_report_aggregates_only=true > "$out/optim_bench.txt" 2>&1 && bench_json="\"optim_bench.json\""
fi
# A short comparison on the image task's paper preset (ResNet-18 width, the paper's
# modulator) on CUDA: time ratios from the CLI's own timers.
"$cli" compare --task image --preset paper --steps 60 --device cuda --set eval_every=1000 \
  --set meta_update_freq=20 --set meta_warmup_steps=0 --json --quiet \
  > "$out/compare-paper-cuda.json" 2> "$out/compare-paper-cuda.err"
compare_rc=$?
cuda_meta="$(run cuda metaadamw)"; cuda_meta_rc=$?
cpu_meta="$(run cpu metaadamw)"
cuda_adamw="$(run cuda adamw)"
cpu_adamw="$(run cpu adamw)"
cat > "$out/gpu-check.json" <<JSON
{
  "gpu": "$(cat "$out/gpu.txt")",
  "torch_version": "$($py -c 'import torch;print(torch.__version__)')",
  "build_seconds": $((t1 - t0)),
  "unit_tests_rc": $unit_rc,
  "cuda_metaadamw_rc": $cuda_meta_rc,
  "optim_bench": $bench_json,
  "compare_paper_cuda_rc": $compare_rc,
  "compare_paper_cuda": $(cat "$out/compare-paper-cuda.json" 2>/dev/null || echo null),
  "runs": {"cuda_metaadamw": ${cuda_meta:-null}, "cpu_metaadamw": ${cpu_meta:-null},
           "cuda_adamw": ${cuda_adamw:-null}, "cpu_adamw": ${cpu_adamw:-null}}
}
JSON
cat "$out/gpu-check.json"
