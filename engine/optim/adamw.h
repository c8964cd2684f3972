// AdamW, our own: the baseline, and the update MetaAdamW builds on (METAADAMW.md §4 with
// α = β = 1). On CPU one fused pass per tensor (adamw_kernel.h); elsewhere, and as the
// reference, multi-tensor (foreach) arithmetic per group, no host synchronisation per
// tensor, and the same operation order as torch::optim::AdamW, so that results are
// bitwise equal to it on CPU (tests/unit/adamw_test.cpp).
#pragma once

#include <torch/torch.h>

#include <string>
#include <tuple>
#include <vector>

#include "optim/options.h"

namespace maw::optim {

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
  };

  explicit AdamW(std::vector<AdamWParamGroup> groups);

  // One step on every tensor that has a gradient.
  void step();
  // The fused CPU kernel (adamw_kernel.h: one pass, equal to rounding) or the composite
  // foreach path (the reference: bitwise torch::optim::AdamW). Fused by default; tensors
  // the kernel does not take (GPU, non-contiguous) always go the composite way.
  void set_fused(bool on) { fused_ = on; }
  bool fused() const { return fused_; }
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
  bool fused_ = true;
};

}  // namespace maw::optim
