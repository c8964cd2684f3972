#include "optim/adamw.h"

#include "optim/adamw_kernel.h"

#include <cmath>
#include <map>
#include <stdexcept>

namespace maw::optim {
namespace {

// The tensors of one foreach call.
struct Bucket {
  std::vector<torch::Tensor> params, grads, m, v, denom;
  std::vector<size_t> slots;  // the tensors' positions in their group
};

std::string key(size_t g, size_t k, const char* what) {
  return "adamw.group" + std::to_string(g) + ".tensor" + std::to_string(k) + "." + what;
}

}  // namespace

AdamW::AdamW(std::vector<AdamWParamGroup> groups) : groups_(std::move(groups)) {
  for (const auto& g : groups_) state_.emplace_back(g.params.size());
}

void AdamW::step() {
  torch::NoGradGuard no_grad;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const auto& group = groups_[gi];
    const auto& o = group.options;
    // Tensors of a group usually share one step count; bucket by it, since the bias
    // corrections are scalars of the foreach calls.
    std::map<int64_t, Bucket> by_step;
    for (size_t k = 0; k < group.params.size(); ++k) {
      const auto& p = group.params[k];
      if (!p.grad().defined()) continue;
      auto& st = state_[gi][k];
      if (!st.exp_avg.defined()) {
        st.exp_avg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
        st.exp_avg_sq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      }
      st.step += 1;
      auto& b = by_step[st.step];
      b.params.push_back(p);
      b.grads.push_back(p.grad());
      b.m.push_back(st.exp_avg);
      b.v.push_back(st.exp_avg_sq);
      b.slots.push_back(k);
    }
    for (auto& [t, b] : by_step) {
      const double bc1 = 1.0 - std::pow(o.beta1(), static_cast<double>(t));
      const double bc2 = 1.0 - std::pow(o.beta2(), static_cast<double>(t));
      if (fused_ && fused_adamw_supported(b.params, b.grads, b.m, b.v)) {
        const std::vector<double> decay(b.params.size(), 1.0 - o.lr() * o.weight_decay());
        const std::vector<double> step_size(b.params.size(), -o.lr() / bc1);
        fused_adamw_cpu(b.params, b.grads, b.m, b.v, decay, step_size,
                        {o.beta1(), o.beta2(), bc1, bc2, o.eps()});
        continue;
      }
      for (size_t k : b.slots) {  // scratch, made once (the fused path needs none)
        auto& st = state_[gi][k];
        if (!st.denom.defined()) st.denom = torch::empty_like(st.exp_avg_sq);
        b.denom.push_back(st.denom);
      }
      // p ← p·(1 − ηλ)
      if (o.weight_decay() != 0.0) at::_foreach_mul_(b.params, 1.0 - o.lr() * o.weight_decay());
      // m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
      at::_foreach_mul_(b.m, o.beta1());
      at::_foreach_add_(b.m, b.grads, 1.0 - o.beta1());
      at::_foreach_mul_(b.v, o.beta2());
      at::_foreach_addcmul_(b.v, b.grads, b.grads, 1.0 - o.beta2());
      // p ← p − (η / bc1) · m / (√v / √bc2 + ε)
      for (size_t i = 0; i < b.v.size(); ++i) at::sqrt_out(b.denom[i], b.v[i]);
      at::_foreach_div_(b.denom, std::sqrt(bc2));
      at::_foreach_add_(b.denom, o.eps());
      at::_foreach_addcdiv_(b.params, b.m, b.denom, -o.lr() / bc1);
    }
  }
}

void AdamW::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params) p.mutable_grad() = torch::Tensor();
}

void AdamW::save(torch::serialize::OutputArchive& archive) const {
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t k = 0; k < groups_[g].params.size(); ++k) {
      const auto& st = state_[g][k];
      archive.write(key(g, k, "step"), torch::tensor(st.step, torch::kInt64));
      if (st.exp_avg.defined()) {
        archive.write(key(g, k, "exp_avg"), st.exp_avg, /*is_buffer=*/true);
        archive.write(key(g, k, "exp_avg_sq"), st.exp_avg_sq, /*is_buffer=*/true);
      }
    }
  }
}

void AdamW::load(torch::serialize::InputArchive& archive) {
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t k = 0; k < groups_[g].params.size(); ++k) {
      const auto& p = groups_[g].params[k];
      auto& st = state_[g][k];
      torch::Tensor step;
      if (!archive.try_read(key(g, k, "step"), step))
        throw std::runtime_error("optimizer state has no entry for tensor " + std::to_string(k) +
                                 " of group " + groups_[g].name);
      st.step = step.item<int64_t>();
      torch::Tensor m, v;
      if (archive.try_read(key(g, k, "exp_avg"), m, /*is_buffer=*/true) &&
          archive.try_read(key(g, k, "exp_avg_sq"), v, /*is_buffer=*/true)) {
        if (!m.sizes().equals(p.sizes()))
          throw std::runtime_error("optimizer state shape mismatch in group " + groups_[g].name);
        st.exp_avg = m.to(p.device(), p.scalar_type());
        st.exp_avg_sq = v.to(p.device(), p.scalar_type());
      } else {
        st.exp_avg = torch::Tensor();
        st.exp_avg_sq = torch::Tensor();
      }
    }
  }
}

void AdamW::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  save(archive);
  archive.save_to(path);
}

void AdamW::load(const std::string& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  load(archive);
}

}  // namespace maw::optim
