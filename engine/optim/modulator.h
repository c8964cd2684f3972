// The modulator (METAADAMW.md §3): a pre-norm Transformer encoder over the G group tokens
// (no positional encoding: groups are a set), then a linear head to four raw outputs per
// group, mapped to the factors
//   α = 1 + alpha_range·(σ(a) − ½),  β = 1 + beta_range·(σ(b) − ½),  λ1 = σ(c),  λ2 = σ(d).
// Built from the engine's own layers (explicit matmul/softmax attention), so every
// layer's attention probabilities [H, G, G] can be read out and second-order gradients
// flow through it. Init: Xavier-uniform matrices, zero biases, LayerNorm (1, 0).
// The learning design (options.h, docs/MODULATOR.md) adds a LayerNorm before the head,
// starts the head at zero (α = β = 1: the identity) and fixes λ1 = λ2 = ½ unless
// learn_lambdas.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "nn/layers.h"
#include "nn/param_store.h"
#include "nn/transformer.h"
#include "api/options.h"

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

  // features [G, D] → factors. `training` enables attention dropout. Inference on CPU
  // without autograd (the optimizer's per-step call) takes forward_host; anything else
  // (the meta-objective's forward with graph, a GPU) the LibTorch layers.
  // `offsets` [G, 2] (the learning design's per-group offsets, or undefined) are added to
  // the raw (a, b) before the squashing, differentiably on the layers' path.
  Output forward(const torch::Tensor& features, bool training, bool want_attention,
                 at::Generator* dropout_gen = nullptr,
                 const torch::Tensor& offsets = torch::Tensor()) const;
  // The same network as plain loops over the G tokens, in double, rounded to the
  // parameters' type at the end: a [G, D] op costs ~10 µs of dispatch in LibTorch, so the
  // paper's 64–128-layer modulators spent 5–13 ms a step in dispatch for microseconds of
  // arithmetic (BENCHMARKS.md). Agrees with the layers to rounding (tests).
  Output forward_host(const torch::Tensor& features, bool want_attention,
                      const torch::Tensor& offsets = torch::Tensor()) const;

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
  nn::LayerNorm final_ln_;  // learning design: the head reads a normalized stream
  bool has_final_ln_ = false;
  bool learn_lambdas_ = true;
  int64_t heads_;
  double alpha_range_, beta_range_;
  // forward_host's view of the parameters: per block, the store indices of ln1 (w, b),
  // q, k, v, out (w, b each), ln2 (w, b), linear1 (w, b), linear2 (w, b); then the head's.
  std::vector<std::vector<int>> block_params_;
  std::vector<int> head_params_;
  std::vector<int> final_ln_params_;  // (w, b) of the final LayerNorm, when there is one
  int64_t ffn_hidden_ = 0;
  double ln_eps_ = 1e-5;
  template <typename T>
  Output forward_host_t(const torch::Tensor& features, bool want_attention,
                        const torch::Tensor& offsets) const;
  Output factors_from(torch::Tensor raw) const;
};

}  // namespace maw::optim
