#include "optim/modulator.h"

#include <cmath>

namespace maw::optim {

Modulator::Modulator(const MetaAdamWOptions& o, int64_t feature_dim, uint64_t seed,
                     torch::Dtype dtype)
    : store_(seed, dtype),
      heads_(o.attn_heads()),
      alpha_range_(o.alpha_range()),
      beta_range_(o.beta_range()) {
  const nn::Scope root(store_, "", {"Modulator"});
  const auto layers = root.sub("encoder").sub("layers");
  for (int64_t l = 0; l < o.attn_layers(); ++l) {
    blocks_.emplace_back(layers.child(std::to_string(l), "TransformerBlock"), feature_dim,
                         o.attn_heads(), o.attn_hidden_dim(), o.attn_dropout());
  }
  head_ = nn::Linear(root.child("head", "Linear"), feature_dim, 4);
  // §3 init: Xavier-uniform for every matrix, zero biases, LayerNorm (1, 0).
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < store_.parameters().size(); ++i) {
    auto p = store_.parameters()[i];
    const auto& name = store_.info()[i].name;
    if (p.dim() == 2) {
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
                                     bool want_attention, at::Generator* dropout_gen) const {
  nn::Ctx c = nn::make_ctx(const_cast<nn::ParamStore&>(store_), training, false);
  c.dropout_gen = dropout_gen;
  Output out;
  auto x = features.unsqueeze(0);  // one sequence of G tokens: [1, G, D]
  for (const auto& b : blocks_) {
    torch::Tensor probs;
    x = b.forward(c, x, nn::AttentionMask{}, want_attention ? &probs : nullptr);
    if (want_attention) out.attention.push_back(probs.squeeze(0));  // [H, G, G]
  }
  out.raw = head_.forward(c, x.squeeze(0));  // [G, 4]
  const auto s = torch::sigmoid(out.raw);
  out.factors =
      torch::stack({1.0 + alpha_range_ * (s.select(1, 0) - 0.5),
                    1.0 + beta_range_ * (s.select(1, 1) - 0.5), s.select(1, 2), s.select(1, 3)},
                   1);
  return out;
}

std::vector<torch::Tensor> Modulator::weight_matrices() const {
  std::vector<torch::Tensor> ws;
  for (const auto& p : store_.parameters())
    if (p.dim() == 2) ws.push_back(p);
  return ws;
}

}  // namespace maw::optim
