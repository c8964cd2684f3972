#include "nn/transformer.h"

#include <cmath>
#include <limits>

namespace maw::nn {

MultiHeadAttention::MultiHeadAttention(const Scope& s, int64_t dim, int64_t heads, double dropout)
    : q_(s.child("q_proj", "Linear"), dim, dim),
      k_(s.child("k_proj", "Linear"), dim, dim),
      v_(s.child("v_proj", "Linear"), dim, dim),
      out_(s.child("out_proj", "Linear"), dim, dim),
      heads_(heads),
      dropout_(dropout) {
  TORCH_CHECK(dim % heads == 0, "attention dim ", dim, " is not a multiple of heads ", heads);
}

torch::Tensor MultiHeadAttention::forward(const Ctx& c, const torch::Tensor& q_in,
                                          const torch::Tensor& kv_in, const AttentionMask& mask,
                                          torch::Tensor* probs) const {
  const int64_t B = q_in.size(0), Tq = q_in.size(1), Tk = kv_in.size(1), D = q_in.size(2);
  const int64_t dh = D / heads_;
  // [B, T, D] → [B, H, T, dh]
  auto split = [&](const torch::Tensor& t, int64_t T) {
    return t.view({B, T, heads_, dh}).transpose(1, 2);
  };
  auto q = split(q_.forward(c, q_in), Tq);
  auto k = split(k_.forward(c, kv_in), Tk);
  auto v = split(v_.forward(c, kv_in), Tk);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (mask.key_padding.defined()) {
    scores = scores.masked_fill(mask.key_padding.view({B, 1, 1, Tk}), neg_inf);
  }
  if (mask.causal) {
    auto future =
        torch::ones({Tq, Tk}, torch::TensorOptions().dtype(torch::kBool).device(q_in.device()))
            .triu(1);
    scores = scores.masked_fill(future, neg_inf);
  }
  auto p = torch::softmax(scores, -1);  // [B, H, Tq, Tk]
  if (probs) *probs = p.detach();
  auto ctx = torch::matmul(dropout(c, p, dropout_), v);  // [B, H, Tq, dh]
  return out_.forward(c, ctx.transpose(1, 2).reshape({B, Tq, D}));
}

FeedForward::FeedForward(const Scope& s, int64_t dim, int64_t hidden, double dropout)
    : l1_(s.child("linear1", "Linear"), dim, hidden),
      l2_(s.child("linear2", "Linear"), hidden, dim),
      dropout_(dropout) {}

torch::Tensor FeedForward::forward(const Ctx& c, const torch::Tensor& x) const {
  return l2_.forward(c, dropout(c, torch::relu(l1_.forward(c, x)), dropout_));
}

TransformerBlock::TransformerBlock(const Scope& s, int64_t dim, int64_t heads, int64_t ffn_hidden,
                                   double dropout)
    : ln1_(s.child("ln1", "LayerNorm"), dim),
      attn_(s.child("attn", "MultiHeadAttention"), dim, heads, dropout),
      ln2_(s.child("ln2", "LayerNorm"), dim),
      ffn_(s.child("ffn", "FeedForward"), dim, ffn_hidden, dropout),
      dropout_(dropout) {}

torch::Tensor TransformerBlock::forward(const Ctx& c, const torch::Tensor& x,
                                        const AttentionMask& mask, torch::Tensor* probs) const {
  auto h = ln1_.forward(c, x);
  auto y = x + dropout(c, attn_.forward(c, h, h, mask, probs), dropout_);
  return y + dropout(c, ffn_.forward(c, ln2_.forward(c, y)), dropout_);
}

DecoderBlock::DecoderBlock(const Scope& s, int64_t dim, int64_t heads, int64_t ffn_hidden,
                           double dropout)
    : ln1_(s.child("ln1", "LayerNorm"), dim),
      self_attn_(s.child("self_attn", "MultiHeadAttention"), dim, heads, dropout),
      ln2_(s.child("ln2", "LayerNorm"), dim),
      cross_attn_(s.child("cross_attn", "MultiHeadAttention"), dim, heads, dropout),
      ln3_(s.child("ln3", "LayerNorm"), dim),
      ffn_(s.child("ffn", "FeedForward"), dim, ffn_hidden, dropout),
      dropout_(dropout) {}

torch::Tensor DecoderBlock::forward(const Ctx& c, const torch::Tensor& x,
                                    const AttentionMask& self_mask, const torch::Tensor& memory,
                                    const AttentionMask& memory_mask) const {
  auto h = ln1_.forward(c, x);
  auto y = x + dropout(c, self_attn_.forward(c, h, h, self_mask), dropout_);
  y = y + dropout(c, cross_attn_.forward(c, ln2_.forward(c, y), memory, memory_mask), dropout_);
  return y + dropout(c, ffn_.forward(c, ln3_.forward(c, y)), dropout_);
}

}  // namespace maw::nn
