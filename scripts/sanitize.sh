#!/usr/bin/env bash
# The sanitizer legs of CI (.ci/run calls this after the test command):
#   asan  the unit tests (metaadamw_tests) under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan  the tests where threads meet — the engine thread and its observers, the log
#         writer's thread, the studio's engine worker and UI bridge — under ThreadSanitizer
# Usage: scripts/sanitize.sh [asan|tsan|all]  (default all). Builds into build-asan and
# build-tsan (only the test targets), with the same ccache as ./build. Exit status: the
# tests'. Our code is instrumented; LibTorch, Qt, HDF5 and OpenMP's runtime are not:
# TSan ignores what happens inside them (ignore_noninstrumented_modules), and the runs
# use one intra-op thread, since TSan cannot see libgomp's barriers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
legs="${1:-all}"
jobs="${METAADAMW_JOBS:-2}"
build_leg() {  # DIR SANITIZERS TARGET...
  local dir="$1" san="$2"
  shift 2
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMETAADAMW_SANITIZE="$san" >/dev/null
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$jobs" "${targets[@]}"
}
status=0
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# Address-space randomization off for the sanitized runs: the sanitizers' runtimes of
# GCC 12 map their shadow memory at fixed places that newer kernels' ASLR can collide with.
norand=(setarch "$(uname -m)" -R)
"${norand[@]}" true 2>/dev/null || norand=()  # a container may forbid it
if [ "$legs" = all ] || [ "$legs" = asan ]; then
  build_leg "$root/build-asan" "address,undefined" metaadamw_tests
  echo "== ASan + UBSan: unit tests"
  # LibTorch keeps allocations alive until exit: leak reports would be about it, not us.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "${norand[@]}" "$root/build-asan/tests/metaadamw_tests" --gtest_brief=1 || status=1
fi
if [ "$legs" = all ] || [ "$legs" = tsan ]; then
  build_leg "$root/build-tsan" "thread" metaadamw_tests metaadamw_studio_tests
  echo "== TSan: engine thread, log writer, run control, studio worker and bridge"
  export TSAN_OPTIONS="ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1"
  "${norand[@]}" "$root/build-tsan/tests/metaadamw_tests" --gtest_brief=1 \
    --gtest_filter='RunLog*:LogFollower*:RunModel*:Trainer.Pause*:Trainer.Stop*' ||
    status=1
  QT_QPA_PLATFORM=offscreen "${norand[@]}" "$root/build-tsan/tests/metaadamw_studio_tests" ||
    status=1
fi
exit "$status"
