// The training loop (engine thread). Reads like the run it performs: build the task and
// the groups, then per step: batch → forward/backward → divergence check → optimizer step
// → records to the observers; evaluate on schedule; summarize.
#pragma once

#include <atomic>
#include <vector>

#include "api/observer.h"
#include "api/run_config.h"

namespace maw::train {

class Trainer {
 public:
  // `config` must be resolved (RunConfig::resolve_preset). `stop` may be set from any
  // thread; the loop checks it before each step.
  Trainer(RunConfig config, std::vector<RunObserver*> observers, const std::atomic<bool>* stop);
  RunSummary run();

 private:
  RunConfig config_;
  std::vector<RunObserver*> observers_;
  const std::atomic<bool>* stop_;
};

}  // namespace maw::train
