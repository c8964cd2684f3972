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
    # -O1 -g1: the sanitizers' usual level (fast to compile, stacks with lines). Warnings
    # are the main build's job: GCC 12 under -fsanitize reports false maybe-uninitialized
    # in libstdc++'s <regex>, so -Werror is off here.
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
      -DMETAADAMW_WERROR=OFF -DMETAADAMW_SANITIZE="$san" >/dev/null
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
  export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # One gtest shard per job, side by side (8 min on one core of the 2-core VM).
  pids=()
  for ((k = 0; k < jobs; k++)); do
    GTEST_TOTAL_SHARDS=$jobs GTEST_SHARD_INDEX=$k "${norand[@]}" \
      "$root/build-asan/tests/metaadamw_tests" --gtest_brief=1 > "$root/build-asan/shard$k.log" 2>&1 &
    pids+=($!)
  done
  for ((k = 0; k < jobs; k++)); do
    if ! wait "${pids[$k]}"; then
      status=1
      cat "$root/build-asan/shard$k.log"
    fi
    tail -4 "$root/build-asan/shard$k.log"
  done
fi
if [ "$legs" = all ] || [ "$legs" = tsan ]; then
  build_leg "$root/build-tsan" "thread" metaadamw_thread_tests metaadamw_studio_tests
  echo "== TSan: engine thread, log writer, run control, studio worker and bridge"
  # die_after_fork=0: the studio starts the CLI with QProcess, whose vfork-style child shares
  # the parent's memory until it execs — TSan's "after a multi-threaded fork" mark, set in
  # the child, would otherwise kill the studio at its next thread start.
  export TSAN_OPTIONS="ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1:die_after_fork=0"
  "${norand[@]}" "$root/build-tsan/tests/metaadamw_thread_tests" --gtest_brief=1 \
    --gtest_filter='RunLog*:LogFollower*:RunModel*:Trainer.Pause*:Trainer.Stop*:Trainer.Same*' ||
    status=1
  # The studio's data-parallel Start runs the metaadamw CLI in a process of its own: the main
  # build's (the test command built it; its ranks are not what this leg checks), or, with no
  # main build, one built here (instrumented too).
  cli="${METAADAMW_CLI:-${METAADAMW_BUILD_DIR:-$root/build}/app/metaadamw}"
  if [ ! -x "$cli" ]; then
    build_leg "$root/build-tsan" "thread" metaadamw
    cli="$root/build-tsan/app/metaadamw"
  fi
  METAADAMW_CLI="$cli" QT_QPA_PLATFORM=offscreen "${norand[@]}" \
    "$root/build-tsan/tests/metaadamw_studio_tests" || status=1
fi
exit "$status"
