#include "train/optimizers.h"

#include "api/errors.h"
#include "optim/adamw.h"

namespace maw::train {
namespace {

class OurAdamW : public RunOptimizer {
 public:
  explicit OurAdamW(std::vector<optim::AdamWParamGroup> groups) : opt_(std::move(groups)) {}
  void step() override { opt_.step(); }

 private:
  optim::AdamW opt_;
};

class TorchAdamW : public RunOptimizer {
 public:
  TorchAdamW(std::vector<torch::Tensor> params, const torch::optim::AdamWOptions& o)
      : opt_(std::move(params), o) {}
  void step() override { opt_.step(); }

 private:
  torch::optim::AdamW opt_;
};

}  // namespace

std::unique_ptr<RunOptimizer> make_optimizer(const RunConfig& c, nn::ParamStore& store,
                                             const std::vector<optim::ParamGroup>& groups) {
  if (c.optimizer == "adamw") {
    const auto o =
        optim::AdamWOptions(c.lr).weight_decay(c.weight_decay).betas(c.beta1, c.beta2).eps(c.eps);
    std::vector<optim::AdamWParamGroup> pg;
    for (const auto& g : groups) {
      optim::AdamWParamGroup x{g.name, {}, o};
      for (int s : g.slots) x.params.push_back(store.parameters()[static_cast<size_t>(s)]);
      pg.push_back(std::move(x));
    }
    return std::make_unique<OurAdamW>(std::move(pg));
  }
  if (c.optimizer == "torch_adamw") {
    auto o = torch::optim::AdamWOptions(c.lr)
                 .weight_decay(c.weight_decay)
                 .betas({c.beta1, c.beta2})
                 .eps(c.eps);
    return std::make_unique<TorchAdamW>(store.parameters(), o);
  }
  throw ConfigError("invalid value '" + c.optimizer +
                    "' for key 'optimizer': allowed adamw | torch_adamw");
}

}  // namespace maw::train
