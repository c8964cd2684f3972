// A task = data + model + loss + metric + presets (ARCHITECTURE.md). The trainer and the
// MetaAdamW meta-update only ever see this interface.
#pragma once

#include <torch/torch.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/presets.h"
#include "api/run_config.h"
#include "data/dataset.h"
#include "nn/model.h"

namespace maw::tasks {

struct EvalResult {
  double loss = 0.0;
  double metric = 0.0;
  std::vector<std::pair<std::string, double>> extras;  // e.g. BLEU beside perplexity
};

// An evaluation abandoned between two batches (Task::set_cancel): a Stop during it.
struct EvalCancelled : std::exception {
  const char* what() const noexcept override { return "evaluation cancelled"; }
};

class Task {
 public:
  virtual ~Task() = default;
  // Checked before each batch of an evaluation: true abandons it (EvalCancelled), so a
  // Stop never waits for a whole evaluation of a large split (12–45 s on image).
  void set_cancel(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }
  // Data-parallel evaluation: rank `rank` of `world` evaluates its contiguous part of a
  // split and `sum` adds the parts' sums over the ranks (the base evaluate; a task with its
  // own, translation's corpus BLEU, evaluates the whole split on every rank).
  using RankSum = std::function<std::vector<double>(const std::vector<double>&)>;
  void set_shard(int rank, int world, RankSum sum) {
    rank_ = rank;
    world_ = world;
    rank_sum_ = std::move(sum);
  }

  virtual std::string name() const = 0;
  virtual nn::Model& model() = 0;
  // Mean loss of a batch (differentiable in the model's outputs).
  virtual torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const = 0;
  virtual std::string metric_name() const = 0;
  virtual bool metric_higher_is_better() const = 0;

  // Splits (METAADAMW.md §5, TASKS.md): meta_val is carved from train and is used only by
  // the MetaAdamW meta-update, never for evaluation or early stopping.
  virtual const data::Dataset& train() const = 0;
  virtual const data::Dataset& meta_val() const = 0;
  virtual const data::Dataset& eval() const = 0;

  // Loss and metric over a whole split, in eval mode, without gradients.
  virtual EvalResult evaluate(const data::Dataset& split, const torch::Device& device,
                              int64_t batch_size);

  // The naive baseline on the eval split (majority class, unigram perplexity, last-value
  // forecast, …) in the task's metric, and what it is.
  virtual double naive_metric() const = 0;
  virtual std::string naive_name() const = 0;

  // Names of the extra metrics every evaluation of the eval split reports (EvalResult::extras).
  virtual std::vector<std::string> extra_metric_names() const { return {}; }

 protected:
  void check_cancel() const {
    if (cancelled_ && cancelled_()) throw EvalCancelled();
  }
  // Sum over the batch of the metric's per-example contributions (e.g. correct count).
  virtual double metric_sum(const torch::Tensor& outputs, const data::Batch& batch) const = 0;
  // The metric from the split's mean of metric_sum and its mean loss; perplexity tasks
  // return exp(mean loss).
  virtual double finish_metric(double mean_metric_sum, double /*mean_loss*/) const {
    return mean_metric_sum;
  }

 private:
  std::function<bool()> cancelled_;
  int rank_ = 0, world_ = 1;
  RankSum rank_sum_;
};

// A task whose three splits are datasets of one kind: their storage, accessors and the
// naive baseline in one place.
template <class D>
class SplitsTask : public Task {
 public:
  const data::Dataset& train() const override { return train_; }
  const data::Dataset& meta_val() const override { return meta_val_; }
  const data::Dataset& eval() const override { return eval_; }
  double naive_metric() const override { return naive_; }
  std::string naive_name() const override { return naive_name_; }

 protected:
  D train_, meta_val_, eval_;
  double naive_ = 0.0;
  std::string naive_name_;
};
using TensorSplitsTask = SplitsTask<data::TensorDataset>;
using SequenceSplitsTask = SplitsTask<data::SequenceDataset>;

// The task a configuration names, with data and model built from its seed.
std::unique_ptr<Task> make_task(const RunConfig& config, torch::Dtype dtype);

// Each task's presets, defined beside it (task_presets dispatches on the name).
const std::vector<PresetRow>& synthetic_presets();
const std::vector<PresetRow>& image_presets();
const std::vector<PresetRow>& lm_presets();
const std::vector<PresetRow>& translation_presets();
const std::vector<PresetRow>& sentiment_presets();
const std::vector<PresetRow>& forecasting_presets();

}  // namespace maw::tasks
