// Reading run logs (docs/LOG_FORMAT.md), finished or still growing. Torch-free and
// HDF5-free header: the CLI's inspect / export and the studio use it.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace maw {

// One dataset of a log: "steps/loss", its shape (the first axis grows) and element type.
struct LogSeries {
  std::string path;
  std::vector<uint64_t> shape;
  std::string type;  // int64 | float64 | float32 | string
  std::string axes;  // what each axis indexes, e.g. "snapshot,group,feature" ("" if unknown)
};

// Splits a joined list (/groups/members is ';'-joined, `axes` ','-joined).
std::vector<std::string> split_list(const std::string& text, char sep);

class RunLogReader {
 public:
  static constexpr int kSchemaVersion = 5;  // the newest version this build reads
  static constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();

  // Opens a finished log, one still being written (SWMR) or one whose writer died.
  // Throws DataError with a message that says what is wrong: no such file, not an HDF5
  // file, an HDF5 file that is not a run log, a newer schema version, damaged/truncated.
  explicit RunLogReader(const std::string& path);
  ~RunLogReader();
  RunLogReader(RunLogReader&&) noexcept;
  RunLogReader& operator=(RunLogReader&&) noexcept;

  const std::string& path() const;
  int schema_version() const;

  // Root attributes as text (numbers printed, strings as stored).
  const std::map<std::string, std::string>& attributes() const;
  std::string attribute(const std::string& name, const std::string& fallback = "") const;

  // Every dataset, sorted by path, with its current shape.
  std::vector<LogSeries> series() const;
  bool has(const std::string& path) const;
  const LogSeries& info(const std::string& path) const;  // throws DataError if absent
  uint64_t rows(const std::string& path) const;          // length of the first axis (0: absent)

  // Rows [first, first + count) of a numeric series, flattened row-major, as double (exact
  // for float32 and for integers below 2^53). count is cut at the end of the series.
  std::vector<double> read(const std::string& path, uint64_t first = 0,
                           uint64_t count = kAll) const;
  // A string series (fixed or variable length), trailing NULs removed.
  std::vector<std::string> read_strings(const std::string& path, uint64_t first = 0,
                                        uint64_t count = kAll) const;

  // A growing file: picks up rows appended and attributes rewritten since the last look.
  // Returns true when anything changed.
  bool refresh();

  // The run's status attribute; for "running", whether the writing process is still alive
  // (same host and its pid exists) — if not, the run was killed and the file holds every
  // record flushed before that.
  std::string status() const;
  bool writer_alive() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maw
