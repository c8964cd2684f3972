// The meta-optimizer: the step MetaAdamW's meta-update takes on the modulator's parameters
// (METAADAMW.md §5.7; docs/MODULATOR.md). sgd and adam are LibTorch's; adam_tensorwise is
// Adam with one second moment per tensor (as NovoGrad's per-layer moments): every tensor's
// step is scale-free, as Adam's, but inside a tensor the coordinates keep their relative
// sizes, as SGD's. Elementwise Adam turns a meta-gradient whose groups all agree in sign
// into one equal step per weight — every group's α moves alike (measured: α's spread across
// groups 1e-4 while α fell by 0.25) — while SGD's step size depends on the task's scale and
// the HUW weights (it drove α to its bound in three meta-updates).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "api/options.h"

namespace maw::optim {

class MetaOptimizer {
 public:
  virtual ~MetaOptimizer() = default;
  virtual void zero_grad() = 0;
  virtual void step() = 0;  // parameters without a gradient are left alone
  virtual void save(torch::serialize::OutputArchive& a) const = 0;
  virtual void load(torch::serialize::InputArchive& a) = 0;
};

// Adam's β1 0.9, β2 0.999, ε 1e-8.
std::unique_ptr<MetaOptimizer> make_meta_optimizer(MetaOptimizerKind kind,
                                                   std::vector<torch::Tensor> params, double lr);

}  // namespace maw::optim
