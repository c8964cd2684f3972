// The modulator (METAADAMW.md §3): a pre-norm Transformer encoder over the G group tokens
// (no positional encoding: groups are a set), then a linear head to four raw outputs per
// group, mapped to the factors
//   α = 1 + alpha_range·(σ(a) − ½),  β = 1 + beta_range·(σ(b) − ½),  λ1 = σ(c),  λ2 = σ(d).
// Built from the engine's own layers (explicit matmul/softmax attention), so every
// layer's attention probabilities [H, G, G] can be read out and second-order gradients
// flow through it. Init: Xavier-uniform matrices, zero biases, LayerNorm (1, 0).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "nn/layers.h"
#include "nn/param_store.h"
#include "nn/transformer.h"
#include "optim/options.h"

namespace maw::optim {

class Modulator {
 public:
  struct Output {
    torch::Tensor raw;                     // [G, 4]: (a, b, c, d)
    torch::Tensor factors;                 // [G, 4]: (α, β, λ1, λ2)
    std::vector<torch::Tensor> attention;  // per layer [H, G, G], when asked for
  };

  Modulator(const MetaAdamWOptions& options, int64_t feature_dim, uint64_t seed,
            torch::Dtype dtype);

  // features [G, D] → factors. `training` enables attention dropout.
  Output forward(const torch::Tensor& features, bool training, bool want_attention,
                 at::Generator* dropout_gen = nullptr) const;

  nn::ParamStore& store() { return store_; }
  const nn::ParamStore& store() const { return store_; }
  // The weight matrices (2-D), for the meta weight decay Σ‖W‖₂.
  std::vector<torch::Tensor> weight_matrices() const;
  int64_t layers() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t heads() const { return heads_; }

 private:
  nn::ParamStore store_;
  std::vector<nn::TransformerBlock> blocks_;
  nn::Linear head_;
  int64_t heads_;
  double alpha_range_, beta_range_;
};

}  // namespace maw::optim
