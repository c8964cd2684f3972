// The optimizers a run can use, behind one small interface for the trainer.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "api/run_config.h"
#include "nn/param_store.h"
#include "optim/param_groups.h"

namespace maw::train {

class RunOptimizer {
 public:
  virtual ~RunOptimizer() = default;
  virtual void step() = 0;  // reads the parameters' .grad()
  virtual int64_t meta_updates() const { return 0; }
};

// `adamw` (ours, one AdamW group per parameter group) or `torch_adamw` (LibTorch's, the
// reference: one group over all tensors).
std::unique_ptr<RunOptimizer> make_optimizer(const RunConfig& config, nn::ParamStore& store,
                                             const std::vector<optim::ParamGroup>& groups);

}  // namespace maw::train
