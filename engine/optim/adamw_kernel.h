// The fused AdamW update on CPU (ISSUE step 6): one pass per tensor that reads p, g, m, v
// and writes p, m, v — 28 bytes per fp32 parameter, the minimum — instead of the nine
// foreach passes of the composite path (adamw.cpp, the reference, bitwise equal to torch).
// The arithmetic follows the composite path's operation order, but the compiler may
// contract a·b + c into one rounding, so results agree to rounding (tests: relative 1e-6
// over 200 steps), not to the bit.
//
// On the way it sums Σp², Σm², Σv² and counts m == 0 over the *updated* tensors: the
// statistics MetaAdamW's next step reads as "before this step's update" (METAADAMW.md §2),
// so that step only reads g and m afresh (36 instead of 44 bytes per parameter).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace maw::optim {

struct FusedAdamWScalars {
  double beta1 = 0.9, beta2 = 0.999;
  double bias_correction1 = 1.0, bias_correction2 = 1.0;  // 1 − β^t
  double eps = 1e-8;
};

// Columns of `sums_out` ([N, 4] double, CPU) when requested.
enum UpdatedSum { kUpdP2 = 0, kUpdM2, kUpdV2, kUpdZerosM, kNumUpdatedSums };

// Whether the fused kernel takes these tensors: CPU, contiguous, float or double, one dtype.
bool fused_adamw_supported(at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v);

// Per tensor i:  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//                p ← p·decay[i] + step_size[i] · m / (√v/√bc2 + ε)
// (step_size = −η·α/bc1, decay = 1 − η·α·λ·β). With `sums_out`, fills it with the
// updated tensors' sums (accumulated per block, reduced in block order: independent of
// the thread count).
void fused_adamw_cpu(at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v,
                     const std::vector<double>& decay, const std::vector<double>& step_size,
                     const FusedAdamWScalars& s, torch::Tensor* sums_out = nullptr);

}  // namespace maw::optim
