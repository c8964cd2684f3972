// A run log (finished, growing or interrupted) into a RunModel: the second source of the
// one data path (ARCHITECTURE.md), so that a loaded run and a live one look the same.
#pragma once

#include <cstdint>
#include <string>

#include "api/run_log_reader.h"
#include "api/run_log_replay.h"
#include "model/run_model.h"

namespace maw::ui {

class LogFollower {
 public:
  // Opens the file (throws DataError with the reader's message).
  explicit LogFollower(const std::string& path);

  // Feeds the records appended since the last call into `model` through replay() (the
  // first call starts the model and reads everything). Returns true when anything new
  // arrived. A log whose writer died while running shows as "interrupted".
  bool poll(RunModel& model);

  // The writer is still appending (the status is "running" and its process lives).
  bool live() const;
  const RunLogReader& reader() const { return reader_; }

 private:
  RunLogReader reader_;
  ReplayCursor cursor_;
};

}  // namespace maw::ui
