// Image classification (TASKS.md): a CIFAR-style ResNet (nn/resnet.h) on Fashion-MNIST
// (offline, apt) by default, or on CIFAR-10 binary batches given by image.cifar_dir.
// Splits: train → train + meta-validation (10%, for the meta-update only); eval = the
// test set. Pixels are scaled to [0, 1] and standardized per channel with train
// statistics. Metric: accuracy; naive baseline: the majority class of train.
#pragma once

#include "nn/resnet.h"
#include "tasks/task.h"

namespace maw::tasks {

class ImageTask : public TensorSplitsTask {
 public:
  ImageTask(const RunConfig& config, torch::Dtype dtype);

  std::string name() const override { return "image"; }
  nn::Model& model() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const override;
  std::string metric_name() const override { return "accuracy"; }
  bool metric_higher_is_better() const override { return true; }

 protected:
  double metric_sum(const torch::Tensor& outputs, const data::Batch& batch) const override;

 private:
  std::unique_ptr<nn::ResNet> model_;
};

}  // namespace maw::tasks
