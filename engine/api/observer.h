// RunObserver: the one event stream out of the engine (ARCHITECTURE.md, "the one data
// path"). Callbacks run on the engine thread: an observer that does real work (disk, GUI)
// hands the record to its own queue and returns at once.
#pragma once

#include <string>

#include "api/records.h"

namespace maw {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_start(const RunInfo& /*info*/) {}
  virtual void on_step(const StepRecord& /*record*/) {}
  virtual void on_eval(const EvalRecord& /*record*/) {}
  virtual void on_snapshot(const Snapshot& /*snapshot*/) {}
  virtual void on_meta_update(const MetaUpdateRecord& /*record*/) {}
  virtual void on_trajectory(const TrajectoryRecord& /*record*/) {}
  virtual void on_landscape(const LandscapeRecord& /*record*/) {}
  // Once, before on_finish, when the run keeps them (RunInfo::final_parameters). Not replayed
  // from a log (the probes read them directly).
  virtual void on_final_parameters(const ParametersRecord& /*record*/) {}
  // Only from a log's replay: an interpolation a probe added to the finished log.
  virtual void on_interpolation(const InterpolationRecord& /*record*/) {}
  virtual void on_event(const RunEvent& /*event*/) {}
  virtual void on_finish(const RunSummary& /*summary*/) {}
  // The run ended on an error (bad data, a damaged checkpoint, out of memory) instead of
  // on_finish; the message is one line. Session::run throws it on afterwards.
  virtual void on_error(const std::string& /*message*/) {}
};

}  // namespace maw
