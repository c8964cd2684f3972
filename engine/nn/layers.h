// Layers that run on substitutable parameters (see param_store.h). Every layer is built
// from ops with double-backward support, so that the meta-update (METAADAMW.md §5) can
// differentiate a gradient computed through it. Shapes: B batch, T time, C channels.
#pragma once

#include <torch/torch.h>

#include "nn/param_store.h"

namespace maw::nn {

// y = x Wᵀ + b; x [..., in] → [..., out]. PyTorch's default init (U(±1/√in)).
class Linear {
 public:
  Linear() = default;
  Linear(const Scope& s, int64_t in, int64_t out, bool bias = true);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x) const;
  int weight_slot() const { return w_; }

 private:
  int w_ = -1;
  int b_ = -1;
};

// Token ids [...] (int64) → vectors [..., dim]; init N(0, std²).
class Embedding {
 public:
  Embedding() = default;
  Embedding(const Scope& s, int64_t num, int64_t dim, double std = 1.0);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& ids) const;
  int weight_slot() const { return w_; }

 private:
  int w_ = -1;
};

// Normalizes over the last dimension.
class LayerNorm {
 public:
  LayerNorm() = default;
  LayerNorm(const Scope& s, int64_t dim, double eps = 1e-5);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x) const;

 private:
  int w_ = -1;
  int b_ = -1;
  int64_t dim_ = 0;
  double eps_ = 1e-5;
};

// x [B, C, H, W]. Training mode normalizes with batch statistics and updates the running
// statistics only when Ctx::update_buffers; eval mode uses the running statistics.
class BatchNorm2d {
 public:
  BatchNorm2d() = default;
  BatchNorm2d(const Scope& s, int64_t channels, double momentum = 0.1, double eps = 1e-5);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x) const;

 private:
  int w_ = -1;
  int b_ = -1;
  int mean_ = -1;  // buffer slots
  int var_ = -1;
  double momentum_ = 0.1;
  double eps_ = 1e-5;
};

// x [B, Cin, H, W] → [B, Cout, H', W']; PyTorch's default init.
class Conv2d {
 public:
  Conv2d() = default;
  Conv2d(const Scope& s, int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
         int64_t padding = 0, bool bias = true);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x) const;

 private:
  int w_ = -1;
  int b_ = -1;
  int64_t stride_ = 1;
  int64_t padding_ = 0;
};

// Inverted dropout with the Ctx's generator; identity in eval mode or when p = 0.
torch::Tensor dropout(const Ctx& c, const torch::Tensor& x, double p);

}  // namespace maw::nn
