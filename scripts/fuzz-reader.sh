#!/usr/bin/env bash
# Fuzz the run-log reader with libFuzzer (clang). Usage: scripts/fuzz-reader.sh [SECONDS]
# Builds build-fuzz/run_log_reader_fuzz with ASan + UBSan, seeds the corpus with real logs
# (needs build/app/metaadamw) and the bad-file shapes of the tests, and runs the fuzzer
# for SECONDS (default 600) on one core. A crash leaves crash-* files in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
command -v clang++ >/dev/null || { echo "fuzz-reader: clang++ not found (apt-get install clang)"; exit 1; }
mkdir -p build-fuzz/corpus
h5inc=$(pkg-config --cflags hdf5-serial 2>/dev/null || echo -I/usr/include/hdf5/serial)
h5lib=$(pkg-config --libs hdf5-serial 2>/dev/null || echo "-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5")
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iengine $h5inc tests/fuzz/run_log_reader_fuzz.cpp engine/log/run_log_reader.cpp engine/log/log_schema.cpp engine/log/run_log_replay.cpp \
  $h5lib -lpthread -o build-fuzz/run_log_reader_fuzz
cli=build/app/metaadamw
if [ -x "$cli" ] && [ ! -f build-fuzz/corpus/metaadamw.h5 ]; then
  "$cli" train --task synthetic --preset tiny --optimizer metaadamw --steps 12 --threads 1 \
    --quiet --set snapshot_every=3 --set attention_every=6 --set meta_update_freq=4 \
    --overwrite --log build-fuzz/corpus/metaadamw.h5
  "$cli" train --task synthetic --preset tiny --optimizer adamw --steps 8 --threads 1 \
    --quiet --overwrite --log build-fuzz/corpus/adamw.h5
fi
printf 'not hdf5\n' > build-fuzz/corpus/text.h5
cd build-fuzz
ASAN_OPTIONS=detect_leaks=0 ./run_log_reader_fuzz -max_total_time="$secs" -rss_limit_mb=2048 \
  -timeout=20 -max_len=200000 -print_final_stats=1 corpus 2>&1 | tail -25
