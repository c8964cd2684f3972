#include "optim/meta_optimizer.h"

#include <cmath>
#include <stdexcept>

namespace maw::optim {
namespace {

// LibTorch's SGD or Adam behind the interface.
class TorchMetaOptimizer : public MetaOptimizer {
 public:
  explicit TorchMetaOptimizer(std::unique_ptr<torch::optim::Optimizer> opt)
      : opt_(std::move(opt)) {}
  void zero_grad() override { opt_->zero_grad(); }
  void step() override { opt_->step(); }
  void save(torch::serialize::OutputArchive& a) const override { opt_->save(a); }
  void load(torch::serialize::InputArchive& a) override { opt_->load(a); }

 private:
  std::unique_ptr<torch::optim::Optimizer> opt_;
};

// Per tensor p with gradient g:  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·mean(g²) (one
// scalar per tensor);  p ← p − lr·(m/bc1)/(√(v/bc2) + ε). The scalar stays on the device.
class TensorwiseAdam : public MetaOptimizer {
 public:
  TensorwiseAdam(std::vector<torch::Tensor> params, double lr)
      : params_(std::move(params)), lr_(lr) {
    for (const auto& p : params_) {
      m_.push_back(torch::zeros_like(p).detach());
      v_.push_back(torch::zeros({}, p.options().requires_grad(false)));
      t_.push_back(0);
    }
  }
  void zero_grad() override {
    for (auto& p : params_)
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
  void step() override {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& g = params_[i].grad();
      if (!g.defined()) continue;
      const double t = static_cast<double>(++t_[i]);
      m_[i].mul_(kBeta1).add_(g, 1.0 - kBeta1);
      v_[i].mul_(kBeta2).add_(g.pow(2).mean(), 1.0 - kBeta2);
      const double bc1 = 1.0 - std::pow(kBeta1, t), bc2 = 1.0 - std::pow(kBeta2, t);
      const auto denom = (v_[i] / bc2).sqrt().add_(kEps);
      params_[i].sub_(m_[i] / denom, lr_ / bc1);
    }
  }
  void save(torch::serialize::OutputArchive& a) const override {
    a.write("kind", torch::tensor(int64_t{1}), true);
    for (size_t i = 0; i < params_.size(); ++i) {
      a.write("m." + std::to_string(i), m_[i], true);
      a.write("v." + std::to_string(i), v_[i], true);
      a.write("t." + std::to_string(i), torch::tensor(t_[i], torch::kInt64), true);
    }
  }
  void load(torch::serialize::InputArchive& a) override {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params_.size(); ++i) {
      torch::Tensor m, v, t;  // fresh tensors: read() set_()s a defined one
      a.read("m." + std::to_string(i), m, true);
      a.read("v." + std::to_string(i), v, true);
      a.read("t." + std::to_string(i), t, true);
      if (!m.sizes().equals(m_[i].sizes()))
        throw std::runtime_error("meta-optimizer state does not fit this modulator");
      m_[i].copy_(m);
      v_[i].copy_(v);
      t_[i] = t.item<int64_t>();
    }
  }

 private:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  std::vector<torch::Tensor> params_, m_, v_;
  std::vector<int64_t> t_;
  double lr_;
};

}  // namespace

std::unique_ptr<MetaOptimizer> make_meta_optimizer(MetaOptimizerKind kind,
                                                   std::vector<torch::Tensor> params, double lr) {
  switch (kind) {
    case MetaOptimizerKind::adam_tensorwise:
      return std::make_unique<TensorwiseAdam>(std::move(params), lr);
    case MetaOptimizerKind::adam:
      return std::make_unique<TorchMetaOptimizer>(
          std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr)));
    case MetaOptimizerKind::sgd:
      return std::make_unique<TorchMetaOptimizer>(
          std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr)));
  }
  throw std::invalid_argument("meta_optimizer");
}

}  // namespace maw::optim
