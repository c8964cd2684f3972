// AdamW, our own: the baseline, and the update MetaAdamW builds on (METAADAMW.md §4 with
// α = β = 1). Three implementations (AdamWKernel): our fused CPU pass per tensor
// (adamw_kernel.h); ATen's own fused kernel at::_fused_adamw_ (CPU and CUDA, where
// LibTorch >= 2.4 is the one built against); and, as the reference, multi-tensor
// (foreach) arithmetic per group, no host synchronisation per tensor, in the same
// operation order as torch::optim::AdamW, so that results are bitwise equal to it on CPU
// (tests/unit/adamw_test.cpp). Our kernel equals the reference to the bit where ATen's
// kernels use FMA; ATen's fused one (lerp for m, its own order) to rounding.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "api/options.h"

namespace maw::optim {

enum class AdamWKernel {
  kAuto,       // per device, the faster one measured (BENCHMARKS.md): ours on CPU; ATen's
               // fused kernel on CUDA where built in, else the composite path
  kOurs,       // our fused CPU kernel (tensors it does not take: composite)
  kAten,       // at::_fused_adamw_ (LibTorch >= 2.4)
  kComposite,  // foreach arithmetic, the reference
};
// "auto", "ours", "aten", "composite".
const char* adamw_kernel_name(AdamWKernel k);
std::optional<AdamWKernel> parse_adamw_kernel(const std::string& name);
// Whether at::_fused_adamw_ is compiled in (LibTorch >= 2.4: its CPU kernel's version).
bool aten_fused_adamw_available();

struct AdamWParamGroup {
  std::string name;
  std::vector<torch::Tensor> params;  // leaves; their .grad() is read by step()
  AdamWOptions options;
};

class AdamW {
 public:
  struct TensorState {
    torch::Tensor exp_avg;     // m
    torch::Tensor exp_avg_sq;  // v
    int64_t step = 0;          // t: steps this tensor took (tensors without grad skip)
    // Scratch for √v/√bc2 + ε, kept so that a step allocates nothing (a fresh
    // parameter-sized buffer per step costs page faults that can dwarf the arithmetic).
    torch::Tensor denom;
    // The step count as ATen's fused kernel reads it (a float scalar on the tensor's
    // device, kept equal to `step`; made on first use).
    torch::Tensor step_tensor;
  };

  explicit AdamW(std::vector<AdamWParamGroup> groups);

  // One step on every tensor that has a gradient.
  void step();
  // Which implementation steps the tensors (kAuto by default). kAten throws
  // std::invalid_argument where it is not compiled in.
  void set_kernel(AdamWKernel k);
  AdamWKernel kernel() const { return kernel_; }
  // The kernel a step takes for tensors on `device` (kAuto resolved; our kernel still
  // falls back to the composite path for tensors it does not take, e.g. non-contiguous).
  AdamWKernel kernel_for(const torch::Device& device) const;
  // Shorthands: fused (kAuto) or the composite reference.
  void set_fused(bool on) { kernel_ = on ? AdamWKernel::kAuto : AdamWKernel::kComposite; }
  bool fused() const { return kernel_ != AdamWKernel::kComposite; }
  void zero_grad();

  std::vector<AdamWParamGroup>& param_groups() { return groups_; }
  const std::vector<AdamWParamGroup>& param_groups() const { return groups_; }
  // State of tensor k of group g (undefined tensors before its first step).
  const TensorState& state(size_t g, size_t k) const { return state_[g][k]; }

  // Everything needed to continue exactly: moments and step counts, keyed by position.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  std::vector<AdamWParamGroup> groups_;
  std::vector<std::vector<TensorState>> state_;  // [group][tensor]
  AdamWKernel kernel_ = AdamWKernel::kAuto;
};

}  // namespace maw::optim
