// One pass over (g, m, p, v) per tensor for the feature statistics (METAADAMW.md §2) on
// CPU: Σg², Σm², Σp², Σv², Σg·m and the zero counts of g and m, accumulated per fixed
// block and reduced in block order, so that the result does not depend on the thread
// count (runs stay bitwise reproducible). The foreach path in features.cpp does the same
// on other devices.
#pragma once

#include <torch/torch.h>

namespace maw::optim {

// Columns of the result: kSumG2 … kZerosM; [N, kNumSums] double on the CPU.
enum TensorSum { kSumG2 = 0, kSumM2, kSumP2, kSumV2, kSumGM, kZerosG, kZerosM, kNumSums };

// All tensors on the CPU, float or double; g[i], m[i], p[i], v[i] of equal shape.
torch::Tensor fused_tensor_sums_cpu(at::TensorList g, at::TensorList m, at::TensorList p,
                                    at::TensorList v, bool count_zeros);

// [N] Σx² per tensor (double), equal to the column kSumP2 above for x = p: for a fused
// MetaAdamW step whose previous update could not sum its parameters (adamw_kernel.h).
torch::Tensor fused_square_sums_cpu(at::TensorList x);

}  // namespace maw::optim
