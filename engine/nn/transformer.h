// Attention and pre-norm Transformer blocks written as plain matmul/softmax, so that
// attention supports double backward and its probabilities can be read out.
#pragma once

#include <torch/torch.h>

#include "nn/layers.h"

namespace maw::nn {

// Masks: key_padding [B, Tk] bool, true where the key is padding; causal hides keys
// after the query's position. At least one key per query must stay visible.
struct AttentionMask {
  torch::Tensor key_padding;
  bool causal = false;
};

class MultiHeadAttention {
 public:
  MultiHeadAttention() = default;
  MultiHeadAttention(const Scope& s, int64_t dim, int64_t heads, double dropout = 0.0);
  // q_in [B, Tq, D], kv_in [B, Tk, D] → [B, Tq, D]. `probs`, when given, receives the
  // attention probabilities [B, H, Tq, Tk].
  torch::Tensor forward(const Ctx& c, const torch::Tensor& q_in, const torch::Tensor& kv_in,
                        const AttentionMask& mask, torch::Tensor* probs = nullptr) const;

 private:
  Linear q_, k_, v_, out_;
  int64_t heads_ = 1;
  double dropout_ = 0.0;
};

// Linear(D, hidden) → ReLU → Linear(hidden, D); the linears are "linear1" and "linear2".
class FeedForward {
 public:
  FeedForward() = default;
  FeedForward(const Scope& s, int64_t dim, int64_t hidden, double dropout = 0.0);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x) const;

 private:
  Linear l1_, l2_;
  double dropout_ = 0.0;
};

// x ← x + MHA(LN(x)); x ← x + FFN(LN(x)).
class TransformerBlock {
 public:
  TransformerBlock() = default;
  TransformerBlock(const Scope& s, int64_t dim, int64_t heads, int64_t ffn_hidden,
                   double dropout = 0.0);
  // `probs`, when given, receives the attention probabilities [B, H, T, T].
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x, const AttentionMask& mask,
                        torch::Tensor* probs = nullptr) const;

 private:
  // Declared in registration order: ln1, attn, ln2, ffn.
  LayerNorm ln1_;
  MultiHeadAttention attn_;
  LayerNorm ln2_;
  FeedForward ffn_;
  double dropout_ = 0.0;
};

// A pre-norm decoder block: x ← x + SelfAttn(LN(x)) (causal + target padding);
// x ← x + CrossAttn(LN(x), memory) (source padding); x ← x + FFN(LN(x)).
class DecoderBlock {
 public:
  DecoderBlock() = default;
  DecoderBlock(const Scope& s, int64_t dim, int64_t heads, int64_t ffn_hidden,
               double dropout = 0.0);
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x, const AttentionMask& self_mask,
                        const torch::Tensor& memory, const AttentionMask& memory_mask) const;

 private:
  LayerNorm ln1_;
  MultiHeadAttention self_attn_;
  LayerNorm ln2_;
  MultiHeadAttention cross_attn_;
  LayerNorm ln3_;
  FeedForward ffn_;
  double dropout_ = 0.0;
};

}  // namespace maw::nn
