// A task = data + model + loss + metric + presets (ARCHITECTURE.md). The trainer and the
// MetaAdamW meta-update only ever see this interface.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "api/run_config.h"
#include "data/dataset.h"
#include "nn/model.h"

namespace maw::tasks {

struct EvalResult {
  double loss = 0.0;
  double metric = 0.0;
};

class Task {
 public:
  virtual ~Task() = default;

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

 protected:
  // Sum over the batch of the metric's per-example contributions (e.g. correct count).
  virtual double metric_sum(const torch::Tensor& outputs, const data::Batch& batch) const = 0;
};

// A task whose splits are whole tensors indexed along dimension 0 (most are): the split
// storage, its accessors and the naive baseline in one place.
class TensorSplitsTask : public Task {
 public:
  const data::Dataset& train() const override { return train_; }
  const data::Dataset& meta_val() const override { return meta_val_; }
  const data::Dataset& eval() const override { return eval_; }
  // The naive baseline's metric on the eval split (majority class, mean prediction, …).
  double naive_metric() const { return naive_; }

 protected:
  data::TensorDataset train_, meta_val_, eval_;
  double naive_ = 0.0;
};

// The task a configuration names, with data and model built from its seed.
std::unique_ptr<Task> make_task(const RunConfig& config, torch::Dtype dtype);

}  // namespace maw::tasks
