// The CLI's progress display: the RunObserver stream's first consumer. On a terminal a
// bar redrawn at most 10 times a second; otherwise plain lines every log_every steps.
#pragma once

#include <chrono>
#include <cstdio>

#include "api/observer.h"

namespace maw::cli {

class ProgressObserver : public RunObserver {
 public:
  ProgressObserver(std::FILE* out, bool interactive, int64_t log_every, bool quiet);
  void on_start(const RunInfo& info) override;
  void on_step(const StepRecord& r) override;
  void on_eval(const EvalRecord& r) override;
  void on_event(const RunEvent& e) override;
  void on_finish(const RunSummary& s) override;
  void on_error(const std::string& /*message*/) override { end_bar(); }  // main says why

 private:
  void update_rate(const StepRecord& r);
  void draw_bar(const StepRecord& r, bool force);
  void end_bar();

  std::FILE* out_;
  bool interactive_;
  int64_t log_every_;
  bool quiet_;
  RunInfo info_;
  double last_eval_metric_ = 0.0;
  bool have_eval_ = false;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
  double rate_ = 0.0;  // steps/s over the last second or so
  double rate_t_ = 0.0;
  int64_t rate_step_ = 0;
};

}  // namespace maw::cli
