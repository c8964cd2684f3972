// A run log (finished, growing or interrupted) into a RunModel: the second source of the
// one data path (ARCHITECTURE.md), so that a loaded run and a live one look the same.
#pragma once

#include <cstdint>
#include <string>

#include "api/run_log_reader.h"
#include "model/run_model.h"

namespace maw::ui {

class LogFollower {
 public:
  // Opens the file (throws DataError with the reader's message).
  explicit LogFollower(const std::string& path);

  // Feeds the rows appended since the last call into `model` (the first call starts the
  // model and reads everything). Returns true when anything new arrived.
  bool poll(RunModel& model);

  // The writer is still appending (the status is "running" and its process lives).
  bool live() const;
  const RunLogReader& reader() const { return reader_; }

 private:
  RunInfo run_info() const;
  RunLogReader reader_;
  bool started_ = false;
  uint64_t steps_ = 0, evals_ = 0, snapshots_ = 0, attention_ = 0, metas_ = 0, events_ = 0;
};

}  // namespace maw::ui
