#include "train/optimizers.h"

#include "api/errors.h"
#include "optim/adamw.h"

namespace maw::train {
namespace {

optim::AdamWOptions base_options(const RunConfig& c) {
  return optim::AdamWOptions(c.lr).weight_decay(c.weight_decay).betas(c.beta1, c.beta2).eps(c.eps);
}

class OurAdamW : public RunOptimizer {
 public:
  OurAdamW(std::vector<optim::AdamWParamGroup> groups, optim::AdamWKernel kernel)
      : opt_(std::move(groups)) {
    opt_.set_kernel(kernel);
  }
  void step(bool, bool) override { opt_.step(); }
  void set_lr(double lr) override {
    for (auto& g : opt_.param_groups()) g.options.lr(lr);
  }
  void save(torch::serialize::OutputArchive& a) const override { opt_.save(a); }
  void load(torch::serialize::InputArchive& a) override { opt_.load(a); }

 private:
  optim::AdamW opt_;
};

class TorchAdamW : public RunOptimizer {
 public:
  TorchAdamW(std::vector<torch::Tensor> params, const torch::optim::AdamWOptions& o)
      : opt_(std::move(params), o) {}
  void step(bool, bool) override { opt_.step(); }
  void set_lr(double lr) override {
    for (auto& g : opt_.param_groups())
      static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  }
  void save(torch::serialize::OutputArchive& a) const override { opt_.save(a); }
  void load(torch::serialize::InputArchive& a) override { opt_.load(a); }

 private:
  torch::optim::AdamW opt_;
};

class MetaAdamWRun : public RunOptimizer {
 public:
  MetaAdamWRun(const RunConfig& c, nn::ParamStore& store,
               const std::vector<optim::ParamGroup>& groups,
               std::function<optim::MetaBatches()> meta_batches)
      : opt_(store.parameters(), store.info(), groups, base_options(c), c.meta, c.seed),
        meta_batches_(std::move(meta_batches)) {}
  void step(bool keep_snapshot, bool keep_attention) override {
    opt_.step(meta_batches_, keep_snapshot, keep_attention);
  }
  void set_lr(double lr) override { opt_.set_lr(lr); }
  void describe(RunInfo& info) const override {
    info.feature_names = opt_.features().names();
    info.modulator_layers = opt_.modulator().layers();
    info.modulator_heads = opt_.modulator().heads();
    info.modulator_design = name_of(opt_.options().modulator_design());
    info.alpha_range = opt_.options().alpha_range();
    info.beta_range = opt_.options().beta_range();
  }
  int64_t meta_updates() const override { return opt_.meta_updates(); }
  std::optional<Snapshot> snapshot() const override { return opt_.snapshot(); }
  bool snapshot_ready() const override { return opt_.snapshot_ready(); }
  std::optional<MetaUpdateRecord> last_meta_update() const override {
    return opt_.last_meta_update();
  }
  torch::Tensor last_factors() const override { return opt_.last_factors(); }
  void save(torch::serialize::OutputArchive& a) const override { opt_.save(a); }
  void load(torch::serialize::InputArchive& a) override { opt_.load(a); }
  void export_modulator(const std::string& path) const override { opt_.export_modulator(path); }
  void import_modulator(const std::string& path) override { opt_.import_modulator(path); }

 private:
  optim::MetaAdamW opt_;
  std::function<optim::MetaBatches()> meta_batches_;
};

}  // namespace

void RunOptimizer::export_modulator(const std::string&) const {
  throw ConfigError("export_modulator needs optimizer=metaadamw");
}

void RunOptimizer::import_modulator(const std::string&) {
  throw ConfigError("modulator needs optimizer=metaadamw");
}

std::unique_ptr<RunOptimizer> make_optimizer(const RunConfig& c, nn::ParamStore& store,
                                             const std::vector<optim::ParamGroup>& groups,
                                             std::function<optim::MetaBatches()> meta_batches) {
  if (c.optimizer == "adamw") {
    std::vector<optim::AdamWParamGroup> pg;
    for (const auto& g : groups) {
      optim::AdamWParamGroup x{g.name, {}, base_options(c)};
      for (int s : g.slots) x.params.push_back(store.parameters()[static_cast<size_t>(s)]);
      pg.push_back(std::move(x));
    }
    // (The key's values are checked by RunConfig; the build's support by AdamW.)
    try {
      return std::make_unique<OurAdamW>(std::move(pg),
                                        optim::parse_adamw_kernel(c.adamw_kernel).value());
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("adamw_kernel=") + c.adamw_kernel + ": " + e.what());
    }
  }
  if (c.optimizer == "torch_adamw") {
    auto o = torch::optim::AdamWOptions(c.lr)
                 .weight_decay(c.weight_decay)
                 .betas({c.beta1, c.beta2})
                 .eps(c.eps);
    return std::make_unique<TorchAdamW>(store.parameters(), o);
  }
  if (c.optimizer == "metaadamw")
    return std::make_unique<MetaAdamWRun>(c, store, groups, std::move(meta_batches));
  throw ConfigError("invalid value '" + c.optimizer +
                    "' for key 'optimizer': allowed adamw | torch_adamw | metaadamw");
}

}  // namespace maw::train
