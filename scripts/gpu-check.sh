#!/usr/bin/env bash
# GPU check: builds engine, CLI and tests with no Qt against a CUDA LibTorch (the one in
# an installed PyTorch), runs the test suite, and runs MetaAdamW on CUDA beside the CPU.
# Writes gpu-check.json (and logs) into $OUT (default ./gpu-check-out).
#
# Hosts with no Debian packages (the GPU machines here): bring nlohmann-json and the
# GoogleTest sources in .gpu-deps/ (scripts/gpu-deps.sh makes it on a Debian machine).
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
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt" 2>&1
echo "GPU: $(cat "$out/gpu.txt")"
t0=$(date +%s)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMETAADAMW_BUILD_GUI=OFF \
  -DMETAADAMW_BUILD_BENCHMARKS=OFF -DMETAADAMW_WERROR=OFF -DCMAKE_PREFIX_PATH="$prefix" \
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
  "runs": {"cuda_metaadamw": ${cuda_meta:-null}, "cpu_metaadamw": ${cpu_meta:-null},
           "cuda_adamw": ${cuda_adamw:-null}, "cpu_adamw": ${cpu_adamw:-null}}
}
JSON
cat "$out/gpu-check.json"
