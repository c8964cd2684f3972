#include "optim/modulator.h"

#include "api/factors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace maw::optim {

Modulator::Modulator(const MetaAdamWOptions& o, int64_t feature_dim, uint64_t seed,
                     torch::Dtype dtype)
    : store_(seed, dtype),
      learn_lambdas_(o.learn_lambdas()),
      heads_(o.attn_heads()),
      alpha_range_(o.alpha_range()),
      beta_range_(o.beta_range()) {
  const nn::Scope root(store_, "", {"Modulator"});
  const auto layers = root.sub("encoder").sub("layers");
  for (int64_t l = 0; l < o.attn_layers(); ++l) {
    blocks_.emplace_back(layers.child(std::to_string(l), "TransformerBlock"), feature_dim,
                         o.attn_heads(), o.attn_hidden_dim(), o.attn_dropout());
  }
  has_final_ln_ = !o.paper_design();
  if (has_final_ln_) final_ln_ = nn::LayerNorm(root.child("final_ln", "LayerNorm"), feature_dim);
  head_ = nn::Linear(root.child("head", "Linear"), feature_dim, factor::count);
  ffn_hidden_ = o.attn_hidden_dim();
  auto index_of = [&](const std::string& name) {
    for (size_t i = 0; i < store_.info().size(); ++i)
      if (store_.info()[i].name == name) return static_cast<int>(i);
    throw std::logic_error("modulator: no parameter " + name);
  };
  for (int64_t l = 0; l < o.attn_layers(); ++l) {
    const std::string b = "encoder.layers." + std::to_string(l) + ".";
    std::vector<int> idx;
    for (const char* part : {"ln1", "attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.out_proj",
                             "ln2", "ffn.linear1", "ffn.linear2"}) {
      idx.push_back(index_of(b + part + ".weight"));
      idx.push_back(index_of(b + part + ".bias"));
    }
    block_params_.push_back(std::move(idx));
  }
  head_params_ = {index_of("head.weight"), index_of("head.bias")};
  if (has_final_ln_) final_ln_params_ = {index_of("final_ln.weight"), index_of("final_ln.bias")};
  // §3 init: Xavier-uniform for every matrix, zero biases, LayerNorm (1, 0); the learning
  // design's head starts at zero, so that untrained factors are exactly the identity.
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < store_.parameters().size(); ++i) {
    auto p = store_.parameters()[i];
    const auto& name = store_.info()[i].name;
    if (!o.paper_design() && name == "head.weight") {
      p.zero_();
    } else if (p.dim() == 2) {
      const double bound = std::sqrt(6.0 / static_cast<double>(p.size(0) + p.size(1)));
      p.uniform_(-bound, bound, store_.init_generator());
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      p.zero_();
    } else {
      p.fill_(1.0);  // LayerNorm weights
    }
  }
}

Modulator::Output Modulator::forward(const torch::Tensor& features, bool training,
                                     bool want_attention, at::Generator* dropout_gen,
                                     const torch::Tensor& offsets) const {
  if (!training && !torch::GradMode::is_enabled() && features.device().is_cpu())
    return forward_host(features, want_attention, offsets);
  nn::Ctx c = nn::make_ctx(const_cast<nn::ParamStore&>(store_), training, false);
  c.dropout_gen = dropout_gen;
  Output out;
  auto x = features.unsqueeze(0);  // one sequence of G tokens: [1, G, D]
  for (const auto& b : blocks_) {
    torch::Tensor probs;
    x = b.forward(c, x, nn::AttentionMask{}, want_attention ? &probs : nullptr);
    if (want_attention) out.attention.push_back(probs.squeeze(0));  // [H, G, G]
  }
  auto attention = std::move(out.attention);
  x = x.squeeze(0);
  if (has_final_ln_) x = final_ln_.forward(c, x);
  auto raw = head_.forward(c, x);  // [G, 4]
  if (offsets.defined())
    raw = raw + torch::cat({offsets.to(raw.dtype()), torch::zeros_like(offsets, raw.options())}, 1);
  out = factors_from(raw);
  out.attention = std::move(attention);
  return out;
}

Modulator::Output Modulator::factors_from(torch::Tensor raw) const {
  Output out;
  out.raw = std::move(raw);
  const auto s = torch::sigmoid(out.raw);
  // λ1, λ2: the head's (paper) or ½, a constant the meta-gradient cannot move.
  const auto l1 = s.select(1, factor::lambda1), l2 = s.select(1, factor::lambda2);
  const auto lam1 = learn_lambdas_ ? l1 : torch::full_like(l1, 0.5);
  const auto lam2 = learn_lambdas_ ? l2 : torch::full_like(l2, 0.5);
  // In factor::Index's order: α, β, λ1, λ2.
  out.factors = torch::stack({1.0 + alpha_range_ * (s.select(1, factor::alpha) - 0.5),
                              1.0 + beta_range_ * (s.select(1, factor::beta) - 0.5), lam1, lam2},
                             1);
  return out;
}

Modulator::Output Modulator::forward_host(const torch::Tensor& features, bool want_attention,
                                          const torch::Tensor& offsets) const {
  TORCH_CHECK(features.dim() == 2 && features.device().is_cpu(),
              "forward_host: features [G, D] on the CPU");
  if (store_.parameters().front().scalar_type() == torch::kDouble)
    return forward_host_t<double>(features, want_attention, offsets);
  return forward_host_t<float>(features, want_attention, offsets);
}

template <typename T>
Modulator::Output Modulator::forward_host_t(const torch::Tensor& features, bool want_attention,
                                            const torch::Tensor& offsets) const {
  const auto& ps = store_.parameters();
  const auto dtype = ps.front().scalar_type();
  std::vector<torch::Tensor> keep;  // contiguous parameters (views unless not contiguous)
  keep.reserve(ps.size());
  for (const auto& p : ps) keep.push_back(p.contiguous());
  auto P = [&](int i) { return keep[static_cast<size_t>(i)].template data_ptr<T>(); };

  const auto xin = features.to(torch::kDouble).contiguous();
  const int64_t G = xin.size(0), D = xin.size(1), H = heads_, dh = D / heads_, F = ffn_hidden_;
  std::vector<double> x(xin.data_ptr<double>(), xin.data_ptr<double>() + G * D);
  std::vector<double> h(G * D), q(G * D), k(G * D), v(G * D), ctx(G * D), o(G * D), f(G * F),
      row(G);
  // out[g, :] = W in[g, :] + b, W [out_dim, in_dim] (torch::linear).
  auto linear = [&](const std::vector<double>& in, int64_t in_dim, std::vector<double>& out,
                    int64_t out_dim, const T* W, const T* b) {
    for (int64_t g = 0; g < G; ++g)
      for (int64_t r = 0; r < out_dim; ++r) {
        double s = static_cast<double>(b[r]);
        const T* w = W + r * in_dim;
        const double* a = in.data() + g * in_dim;
        for (int64_t c = 0; c < in_dim; ++c) s += static_cast<double>(w[c]) * a[c];
        out[static_cast<size_t>(g * out_dim + r)] = s;
      }
  };
  auto layer_norm = [&](const std::vector<double>& in, std::vector<double>& out, const T* w,
                        const T* b) {
    for (int64_t g = 0; g < G; ++g) {
      const double* a = in.data() + g * D;
      double mean = 0, var = 0;
      for (int64_t c = 0; c < D; ++c) mean += a[c];
      mean /= static_cast<double>(D);
      for (int64_t c = 0; c < D; ++c) var += (a[c] - mean) * (a[c] - mean);
      const double inv = 1.0 / std::sqrt(var / static_cast<double>(D) + ln_eps_);
      for (int64_t c = 0; c < D; ++c)
        out[static_cast<size_t>(g * D + c)] =
            (a[c] - mean) * inv * static_cast<double>(w[c]) + static_cast<double>(b[c]);
    }
  };

  Output result;
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  for (const auto& idx : block_params_) {
    // x ← x + MHA(LN1(x))
    layer_norm(x, h, P(idx[0]), P(idx[1]));
    linear(h, D, q, D, P(idx[2]), P(idx[3]));
    linear(h, D, k, D, P(idx[4]), P(idx[5]));
    linear(h, D, v, D, P(idx[6]), P(idx[7]));
    torch::Tensor probs;
    T* pp = nullptr;
    if (want_attention) {
      probs = torch::empty({H, G, G}, torch::TensorOptions().dtype(dtype));
      pp = probs.data_ptr<T>();
    }
    for (int64_t hh = 0; hh < H; ++hh)
      for (int64_t g = 0; g < G; ++g) {
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < G; ++j) {
          double s = 0;
          for (int64_t c = hh * dh; c < (hh + 1) * dh; ++c) s += q[g * D + c] * k[j * D + c];
          row[static_cast<size_t>(j)] = s * scale;
          mx = std::max(mx, row[static_cast<size_t>(j)]);
        }
        double z = 0;
        for (int64_t j = 0; j < G; ++j) z += (row[static_cast<size_t>(j)] = std::exp(row[j] - mx));
        for (int64_t j = 0; j < G; ++j) row[static_cast<size_t>(j)] /= z;
        if (pp)
          for (int64_t j = 0; j < G; ++j) pp[(hh * G + g) * G + j] = static_cast<T>(row[j]);
        for (int64_t c = hh * dh; c < (hh + 1) * dh; ++c) {
          double s = 0;
          for (int64_t j = 0; j < G; ++j) s += row[static_cast<size_t>(j)] * v[j * D + c];
          ctx[static_cast<size_t>(g * D + c)] = s;
        }
      }
    if (want_attention) result.attention.push_back(probs);
    linear(ctx, D, o, D, P(idx[8]), P(idx[9]));
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
    // x ← x + FFN(LN2(x)), FFN = linear2(relu(linear1(·)))
    layer_norm(x, h, P(idx[10]), P(idx[11]));
    linear(h, D, f, F, P(idx[12]), P(idx[13]));
    for (auto& a : f) a = std::max(a, 0.0);
    linear(f, F, o, D, P(idx[14]), P(idx[15]));
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
  }
  if (has_final_ln_) {
    layer_norm(x, h, P(final_ln_params_[0]), P(final_ln_params_[1]));
    x.swap(h);
  }
  std::vector<double> raw(G * factor::count);
  linear(x, D, raw, factor::count, P(head_params_[0]), P(head_params_[1]));
  if (offsets.defined()) {  // [G, 2] onto (a, b), in the loop: no ops on the step path
    TORCH_CHECK(offsets.is_contiguous() && offsets.scalar_type() == dtype && offsets.size(0) == G &&
                    offsets.size(1) == 2,
                "forward_host: offsets [G, 2] of the parameters' type");
    const T* off = offsets.data_ptr<T>();
    for (int64_t g = 0; g < G; ++g) {
      raw[static_cast<size_t>(g * factor::count + factor::alpha)] +=
          static_cast<double>(off[2 * g]);
      raw[static_cast<size_t>(g * factor::count + factor::beta)] +=
          static_cast<double>(off[2 * g + 1]);
    }
  }
  auto out = factors_from(
      torch::from_blob(raw.data(), {G, factor::count}, torch::TensorOptions().dtype(torch::kDouble))
          .to(dtype, /*non_blocking=*/false, /*copy=*/true));  // raw dies here
  out.attention = std::move(result.attention);
  return out;
}

std::vector<torch::Tensor> Modulator::weight_matrices() const {
  std::vector<torch::Tensor> ws;
  for (const auto& p : store_.parameters())
    if (p.dim() == 2) ws.push_back(p);
  return ws;
}

}  // namespace maw::optim
