#include "optim/adamw.h"

#include "optim/adamw_kernel.h"

#include <cmath>
#include <map>
#include <stdexcept>

// ATen's fused AdamW with a CPU kernel: LibTorch 2.4 and later.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define MAW_HAVE_ATEN_FUSED_ADAMW 1
#else
#define MAW_HAVE_ATEN_FUSED_ADAMW 0
#endif

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

// ATen's kernel on one bucket: it reads each tensor's step from a float scalar, which we
// keep equal to our count (made at count − 1, then advanced with the others by one add).
void aten_fused_step(Bucket& b, std::vector<AdamW::TensorState*>& states, const AdamWOptions& o) {
#if MAW_HAVE_ATEN_FUSED_ADAMW
  std::vector<torch::Tensor> steps;
  steps.reserve(states.size());
  for (auto* st : states) {
    if (!st->step_tensor.defined())
      st->step_tensor =
          torch::full({}, static_cast<double>(st->step - 1),
                      torch::TensorOptions().dtype(torch::kFloat).device(st->exp_avg.device()));
    steps.push_back(st->step_tensor);
  }
  at::_foreach_add_(steps, 1.0);
  at::_fused_adamw_(b.params, b.grads, b.m, b.v, /*max_exp_avg_sqs=*/{}, steps, o.lr(), o.beta1(),
                    o.beta2(), o.weight_decay(), o.eps(), /*amsgrad=*/false, /*maximize=*/false);
#else
  (void)b;
  (void)states;
  (void)o;
  throw std::logic_error("at::_fused_adamw_ is not compiled in");
#endif
}

}  // namespace

const char* adamw_kernel_name(AdamWKernel k) {
  switch (k) {
    case AdamWKernel::kAuto: return "auto";
    case AdamWKernel::kOurs: return "ours";
    case AdamWKernel::kAten: return "aten";
    case AdamWKernel::kComposite: return "composite";
  }
  return "?";
}

std::optional<AdamWKernel> parse_adamw_kernel(const std::string& name) {
  for (auto k :
       {AdamWKernel::kAuto, AdamWKernel::kOurs, AdamWKernel::kAten, AdamWKernel::kComposite})
    if (name == adamw_kernel_name(k)) return k;
  return std::nullopt;
}

bool aten_fused_adamw_available() {
  return MAW_HAVE_ATEN_FUSED_ADAMW != 0;
}

AdamW::AdamW(std::vector<AdamWParamGroup> groups) : groups_(std::move(groups)) {
  for (const auto& g : groups_) state_.emplace_back(g.params.size());
}

void AdamW::set_kernel(AdamWKernel k) {
  if (k == AdamWKernel::kAten && !aten_fused_adamw_available())
    throw std::invalid_argument(
        "AdamW kernel 'aten' (at::_fused_adamw_) needs LibTorch >= 2.4; this build has LibTorch " +
        std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR));
  kernel_ = k;
}

AdamWKernel AdamW::kernel_for(const torch::Device& device) const {
  if (kernel_ != AdamWKernel::kAuto) return kernel_;
  // Measured (BENCHMARKS.md): on CPU ours is as fast as ATen's fused kernel or faster
  // (ResNet-18 shapes) and several times faster on small tensors, where ATen's runs one
  // parallel region per tensor. On CUDA ours has no kernel: ATen's fused one (one
  // multi-tensor launch) where built in, else the foreach path.
  if (device.is_cpu()) return AdamWKernel::kOurs;
  return aten_fused_adamw_available() ? AdamWKernel::kAten : AdamWKernel::kComposite;
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
      const auto kernel = kernel_for(b.params.front().device());
      if (kernel == AdamWKernel::kAten) {
        std::vector<TensorState*> states;
        for (size_t k : b.slots) states.push_back(&state_[gi][k]);
        aten_fused_step(b, states, o);
        continue;
      }
      if (kernel == AdamWKernel::kOurs && fused_adamw_supported(b.params, b.grads, b.m, b.v)) {
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
      st.step_tensor = torch::Tensor();  // remade from `step` on first use
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
