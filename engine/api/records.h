// What a run reports while it trains: plain values, no torch. Produced by the trainer on
// the engine thread and handed to every RunObserver (CLI progress, HDF5 log, studio).
#pragma once

#include <cstdint>
#include <string>

namespace maw {

struct RunInfo {
  std::string task;
  std::string preset;
  std::string optimizer;
  uint64_t seed = 0;
  std::string device;
  int64_t threads = 0;
  int64_t total_steps = 0;
  int64_t steps_per_epoch = 0;
  int64_t num_parameters = 0;
  int64_t num_groups = 0;
  std::string metric_name;
  bool metric_higher_is_better = false;
};

// One training step. Times in milliseconds; wall_time_s since the run started.
struct StepRecord {
  int64_t step = 0;  // 1-based: the number of optimizer steps done
  int64_t epoch = 0;
  double loss = 0.0;
  double lr = 0.0;
  double wall_time_s = 0.0;
  double forward_backward_ms = 0.0;
  double optimizer_ms = 0.0;
  double meta_ms = 0.0;
};

struct EvalRecord {
  int64_t step = 0;
  int64_t epoch = 0;
  double loss = 0.0;
  double metric = 0.0;
  double eval_ms = 0.0;
};

struct RunEvent {
  enum class Kind { Started, Paused, Resumed, Stopped, Diverged, Completed, Error };
  Kind kind = Kind::Started;
  int64_t step = 0;
  std::string message;
};
const char* to_string(RunEvent::Kind kind);

struct RunSummary {
  std::string task;
  std::string preset;
  std::string optimizer;
  uint64_t seed = 0;
  int64_t steps = 0;
  double final_train_loss = 0.0;
  double eval_loss = 0.0;
  double eval_metric = 0.0;
  std::string metric_name;
  double wall_time_s = 0.0;
  double mean_step_ms = 0.0;
  int64_t meta_updates = 0;
  std::string status;   // completed | stopped | diverged | error
  std::string message;  // why, when status is not completed
  std::string device;
  int64_t threads = 0;
  int64_t num_parameters = 0;
  int64_t num_groups = 0;
};

}  // namespace maw
