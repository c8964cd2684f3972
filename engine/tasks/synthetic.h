// The built-in synthetic task: a teacher network drawn from the seed labels Gaussian
// inputs; a student MLP learns it. Regression (teacher output, standardized with train
// statistics, plus noise; metric: MSE) or classification (argmax of the teacher's 4
// logits; metric: accuracy). Naive baselines: MSE ≈ 1 + noise², accuracy of the majority
// class.
#pragma once

#include "nn/models.h"
#include "tasks/task.h"

namespace maw::tasks {

class SyntheticTask : public TensorSplitsTask {
 public:
  SyntheticTask(const RunConfig& config, torch::Dtype dtype);

  std::string name() const override { return "synthetic"; }
  nn::Model& model() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const override;
  std::string metric_name() const override { return regression_ ? "mse" : "accuracy"; }
  bool metric_higher_is_better() const override { return !regression_; }

 protected:
  double metric_sum(const torch::Tensor& outputs, const data::Batch& batch) const override;

 private:
  bool regression_;
  std::unique_ptr<nn::MLP> model_;
};

}  // namespace maw::tasks
