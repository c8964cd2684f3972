// Fused AdamW updates on CPU (ISSUE step 6). The composite foreach path (adamw.cpp,
// metaadamw.cpp) stays the reference; these kernels do the same arithmetic in ATen's
// operation order (add with alpha and addcmul as one fma each, addcdiv as (s·m)/d, no
// other contraction), so on a CPU where ATen's kernels use FMA (AVX2/AVX-512) they agree
// with it to the bit — in every instruction-set variant (cpu_isa.h; tests run each one
// the CPU can run) — and to relative 1e-6 elsewhere.
//
// AdamW: one pass per tensor, read p, g, m, v and write p, m, v — 28 bytes per fp32
// parameter, the minimum.
//
// MetaAdamW needs the features (from g and the moments *before* the update) before it
// knows the factors, so it runs two passes (36 bytes per parameter): fused_moments_cpu
// reads g, m, v, sums the features' statistics on the way and writes the new moments;
// fused_param_update_cpu then updates p with the factors and sums Σp² of the updated
// parameters — the one statistic of the next step that the moments pass cannot see.
// Sums use stats_kernel.cpp's blocks, lanes and fma, so they equal a fresh statistics
// pass to the bit.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace maw::optim {

struct FusedAdamWScalars {
  double beta1 = 0.9, beta2 = 0.999;
  double bias_correction1 = 1.0, bias_correction2 = 1.0;  // 1 − β^t
  double eps = 1e-8;
};

// Whether the fused kernels take these tensors: CPU, contiguous, float or double, one
// dtype, equal sizes.
bool fused_adamw_supported(at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v);

// Per tensor i:  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//                p ← p·decay[i] + step_size[i]·m / (√v/√bc2 + ε)
// (step_size = −η·α/bc1, decay = 1 − η·α·λ·β).
void fused_adamw_cpu(at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v,
                     const std::vector<double>& decay, const std::vector<double>& step_size,
                     const FusedAdamWScalars& s);

// MetaAdamW's first pass: the moments update, returning [N, kNumSums] (stats_kernel.h's
// columns) of g and of m, v before it; the Σp² column is 0 (the caller fills it) and the
// zero counts only with `count_zeros`.
torch::Tensor fused_moments_cpu(at::TensorList g, at::TensorList m, at::TensorList v,
                                const FusedAdamWScalars& s, bool count_zeros);

// MetaAdamW's second pass: p ← p·decay[i] + step_size[i]·m / (√v/√bc2 + ε) with the
// moments of this step; returns [N] Σp² of the updated parameters (double).
torch::Tensor fused_param_update_cpu(at::TensorList p, at::TensorList m, at::TensorList v,
                                     const std::vector<double>& decay,
                                     const std::vector<double>& step_size,
                                     const FusedAdamWScalars& s);

}  // namespace maw::optim
