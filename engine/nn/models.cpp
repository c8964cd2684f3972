#include "nn/models.h"

namespace maw::nn {

MLP::MLP(int64_t in, std::vector<int64_t> hidden, int64_t out, uint64_t seed, torch::Dtype dtype)
    : Model("MLP", seed, dtype) {
  const Scope layers = root().sub("layers");
  int64_t prev = in;
  hidden.push_back(out);
  for (size_t i = 0; i < hidden.size(); ++i) {
    layers_.emplace_back(layers.child(std::to_string(i), "Linear"), prev, hidden[i]);
    prev = hidden[i];
  }
}

torch::Tensor MLP::forward(const Ctx& c, const torch::Tensor& x) const {
  auto h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i].forward(c, h);
    if (i + 1 < layers_.size()) h = torch::relu(h);
  }
  return h;
}

torch::Tensor MLP::forward(const Ctx& c, const data::Batch& batch) const {
  return forward(c, batch.x);
}

TransformerClassifier::TransformerClassifier(const TransformerClassifierOptions& o, uint64_t seed,
                                             torch::Dtype dtype)
    : Model("TransformerClassifier", seed, dtype) {
  const Scope r = root();
  tok_ = Embedding(r.child("tok_emb", "Embedding"), o.vocab, o.dim, 0.02);
  pos_ = Embedding(r.child("pos_emb", "Embedding"), o.max_len, o.dim, 0.02);
  const Scope layers = r.sub("encoder").sub("layers");
  for (int64_t i = 0; i < o.layers; ++i) {
    blocks_.emplace_back(layers.child(std::to_string(i), "TransformerBlock"), o.dim, o.heads,
                         o.ffn_hidden, o.dropout);
  }
  norm_ = LayerNorm(r.child("norm", "LayerNorm"), o.dim);
  head_ = Linear(r.child("head", "Linear"), o.dim, o.classes);
}

torch::Tensor TransformerClassifier::forward(const Ctx& c, const data::Batch& batch) const {
  const auto& ids = batch.x;  // [B, T]
  const int64_t T = ids.size(1);
  auto pos = torch::arange(T, ids.options());
  auto h = tok_.forward(c, ids) + pos_.forward(c, pos).unsqueeze(0);  // [B, T, D]
  AttentionMask mask{batch.x_mask, false};
  for (const auto& b : blocks_) h = b.forward(c, h, mask);
  h = norm_.forward(c, h);
  torch::Tensor pooled;
  if (batch.x_mask.defined()) {
    auto keep = (~batch.x_mask).unsqueeze(-1).to(h.scalar_type());  // [B, T, 1]
    pooled = (h * keep).sum(1) / keep.sum(1).clamp_min(1.0);
  } else {
    pooled = h.mean(1);
  }
  return head_.forward(c, pooled);
}

}  // namespace maw::nn
