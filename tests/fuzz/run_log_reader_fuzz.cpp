// libFuzzer target over RunLogReader: any bytes, read as a run log, give values or a
// DataError — never a crash, a hang or a sanitizer report. Built by scripts/fuzz-reader.sh
// (clang: -fsanitize=fuzzer,address,undefined).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "api/errors.h"
#include "api/run_log_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/dev/shm/maw_fuzz_" + std::to_string(::getpid()) + ".h5";
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  try {
    maw::RunLogReader r(path);
    for (const auto& s : r.series()) {
      try {
        if (s.type == "string")
          r.read_strings(s.path, 0, 64);
        else
          r.read(s.path, 0, 64);
        if (r.rows(s.path) > 2) r.read(s.path, r.rows(s.path) - 2, 2);
      } catch (const maw::DataError&) {
      }
    }
    r.refresh();
    (void)r.writer_alive();
  } catch (const maw::DataError&) {
  }
  return 0;
}
