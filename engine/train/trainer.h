// The training loop (engine thread). Reads like the run it performs: build the task and
// the groups, then per step: batch → forward/backward → divergence check → optimizer step
// → records to the observers; evaluate on schedule; summarize.
#pragma once

#include <atomic>
#include <vector>

#include "api/observer.h"
#include "api/run_config.h"
#include "train/run_control.h"

namespace maw::train {

class Trainer {
 public:
  // `config` must be resolved (RunConfig::resolve_preset). `control` (not owned) is
  // consulted before each step.
  Trainer(RunConfig config, std::vector<RunObserver*> observers, RunControl* control);
  RunSummary run();

 private:
  RunConfig config_;
  std::vector<RunObserver*> observers_;
  RunControl* control_;
};

}  // namespace maw::train
