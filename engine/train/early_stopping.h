// Early stopping (RunConfig: early_stopping = eval_loss | eval_metric | off, patience, min_delta,
// restore_best): judges each evaluation, keeps the best model when asked, and is part of a
// checkpoint so that a resumed run stops, and restores, as the uninterrupted one would.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "api/records.h"
#include "api/run_config.h"
#include "nn/param_store.h"

namespace maw::train {

class EarlyStopping {
 public:
  EarlyStopping(const RunConfig& config, bool metric_higher_is_better);
  bool enabled() const { return enabled_; }
  // After each evaluation: true when `patience` evaluations in a row did not improve the
  // monitor by min_delta (the run should stop). Keeps a copy of the model at the best one
  // when restore_best.
  bool observe(const EvalRecord& e, const nn::ParamStore& store);
  // At the end of a run stopped at `step`: puts the best evaluated model back (when kept
  // and not the last) and reports its evaluation in `s` (runs are deterministic: the one
  // recorded at best_step). Sets s.best_step, s.best_monitor either way.
  void finish(nn::ParamStore& store, int64_t step, RunSummary& s) const;
  int64_t best_step() const { return best_step_; }
  // "no improvement of eval_loss in 5 evaluations; best at step 400"
  std::string reason() const;

  void save(torch::serialize::OutputArchive& a) const;
  // `extra_names`: the task's extra metric names, in the order EvalRecord::extras has them.
  void load(torch::serialize::InputArchive& a, const std::vector<std::string>& extra_names);

 private:
  bool enabled_, on_loss_, lower_better_, restore_best_;
  std::string monitor_;
  int64_t patience_;
  double min_delta_;
  double best_ = 0.0;
  EvalRecord best_eval_;
  int64_t best_step_ = -1, bad_evals_ = 0;
  std::vector<torch::Tensor> best_params_, best_buffers_;
};

}  // namespace maw::train
