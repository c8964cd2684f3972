#include "nn/layers.h"

#include <algorithm>
#include <cmath>

namespace maw::nn {
namespace {

torch::Tensor uniform(const Scope& s, torch::IntArrayRef shape, double bound) {
  return torch::empty(shape, s.options()).uniform_(-bound, bound, s.gen());
}

}  // namespace

Linear::Linear(const Scope& s, int64_t in, int64_t out, bool bias) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  w_ = s.param("weight", uniform(s, {out, in}, bound));
  if (bias) b_ = s.param("bias", uniform(s, {out}, bound));
}

torch::Tensor Linear::forward(const Ctx& c, const torch::Tensor& x) const {
  return torch::linear(x, c.p(w_), b_ >= 0 ? c.p(b_) : torch::Tensor());
}

Embedding::Embedding(const Scope& s, int64_t num, int64_t dim, double std) {
  w_ = s.param("weight", torch::empty({num, dim}, s.options()).normal_(0.0, std, s.gen()));
}

torch::Tensor Embedding::forward(const Ctx& c, const torch::Tensor& ids) const {
  // index_select is linear in the table, so any order of derivative flows into it.
  const auto& w = c.p(w_);
  auto out = w.index_select(0, ids.reshape({-1}));
  auto shape = ids.sizes().vec();
  shape.push_back(w.size(1));
  return out.view(shape);
}

LayerNorm::LayerNorm(const Scope& s, int64_t dim, double eps) : dim_(dim), eps_(eps) {
  w_ = s.param("weight", torch::ones({dim}, s.options()));
  b_ = s.param("bias", torch::zeros({dim}, s.options()));
}

torch::Tensor LayerNorm::forward(const Ctx& c, const torch::Tensor& x) const {
  return torch::layer_norm(x, {dim_}, c.p(w_), c.p(b_), eps_);
}

BatchNorm2d::BatchNorm2d(const Scope& s, int64_t channels, double momentum, double eps)
    : momentum_(momentum), eps_(eps) {
  w_ = s.param("weight", torch::ones({channels}, s.options()));
  b_ = s.param("bias", torch::zeros({channels}, s.options()));
  mean_ = s.buffer("running_mean", torch::zeros({channels}, s.options()));
  var_ = s.buffer("running_var", torch::ones({channels}, s.options()));
}

torch::Tensor BatchNorm2d::forward(const Ctx& c, const torch::Tensor& x) const {
  auto& bufs = *c.buffers;
  if (c.training && c.sync_sum) {
    // The global batch's statistics, two passes (the mean, then the squared deviations from
    // it) each summed over the ranks, differentiably: the same normalization and gradients
    // as one process on the whole batch.
    const int64_t C = x.size(1);
    const auto xc = x.transpose(0, 1).reshape({C, -1});
    const auto n_local = torch::full({1}, static_cast<double>(xc.size(1)), x.options());
    const auto first = (*c.sync_sum)(torch::cat({xc.sum(1), n_local}));
    const auto n = first.slice(0, C, C + 1);
    const auto mean = first.slice(0, 0, C) / n;
    const auto var = (*c.sync_sum)((xc - mean.unsqueeze(1)).square().sum(1)) / n;  // biased
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[1] = C;
    const auto y = (x - mean.view(shape)) * torch::rsqrt(var.view(shape) + eps_);
    if (c.update_buffers) {
      torch::NoGradGuard no_grad;
      const double total = n.item<double>();
      bufs[static_cast<size_t>(mean_)].mul_(1 - momentum_).add_(mean.detach(), momentum_);
      bufs[static_cast<size_t>(var_)]
          .mul_(1 - momentum_)
          .add_(var.detach() * (total / std::max(total - 1.0, 1.0)), momentum_);
    }
    return y * c.p(w_).view(shape) + c.p(b_).view(shape);
  }
  if (c.training) {
    // Undefined running tensors: batch statistics, nothing written.
    torch::Tensor rm, rv;
    if (c.update_buffers) {
      rm = bufs[static_cast<size_t>(mean_)];
      rv = bufs[static_cast<size_t>(var_)];
    }
    return torch::batch_norm(x, c.p(w_), c.p(b_), rm, rv, /*training=*/true, momentum_, eps_,
                             /*cudnn_enabled=*/false);
  }
  return torch::batch_norm(x, c.p(w_), c.p(b_), bufs[static_cast<size_t>(mean_)],
                           bufs[static_cast<size_t>(var_)], /*training=*/false, momentum_, eps_,
                           /*cudnn_enabled=*/false);
}

Conv2d::Conv2d(const Scope& s, int64_t in, int64_t out, int64_t kernel, int64_t stride,
               int64_t padding, bool bias)
    : stride_(stride), padding_(padding) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in * kernel * kernel));
  w_ = s.param("weight", uniform(s, {out, in, kernel, kernel}, bound));
  if (bias) b_ = s.param("bias", uniform(s, {out}, bound));
}

torch::Tensor Conv2d::forward(const Ctx& c, const torch::Tensor& x) const {
  return torch::conv2d(x, c.p(w_), b_ >= 0 ? c.p(b_) : torch::Tensor(), {stride_, stride_},
                       {padding_, padding_});
}

torch::Tensor dropout(const Ctx& c, const torch::Tensor& x, double p) {
  if (!c.training || p <= 0.0) return x;
  auto keep = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  if (c.dropout_gen && c.dropout_gen->device() != x.device()) {
    // A generator of another device (the modulator's CPU generator, its tensors on a GPU):
    // draw the mask where the generator lives, then move it. The modulator's activations
    // are [G, D]-sized, so the copy is negligible; the masks stay those of the generator.
    keep = torch::empty(x.sizes(), x.options().device(c.dropout_gen->device()))
               .bernoulli_(1.0 - p, *c.dropout_gen)
               .to(x.device());
  } else if (c.dropout_gen) {
    keep.bernoulli_(1.0 - p, *c.dropout_gen);
  } else {
    keep.bernoulli_(1.0 - p);
  }
  return x * keep / (1.0 - p);
}

}  // namespace maw::nn
