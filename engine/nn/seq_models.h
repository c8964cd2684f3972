// The sequence models of the text and time-series tasks (TASKS.md), all on substitutable
// parameters with double backward: MiniGPT (language model), an encoder–decoder
// Transformer (translation), a BiLSTM classifier (sentiment) and a Transformer encoder
// forecaster. Token id 0 is padding everywhere.
#pragma once

#include <vector>

#include "nn/layers.h"
#include "nn/lstm.h"
#include "nn/model.h"
#include "nn/transformer.h"

namespace maw::nn {

struct TransformerSize {
  int64_t dim = 128;
  int64_t heads = 4;
  int64_t ffn_hidden = 512;
  int64_t layers = 2;
  double dropout = 0.0;
};

// Token ids x [B, T] → next-token logits [B, T, vocab]: token + learned position
// embeddings, causal pre-norm blocks "blocks.i", a final LayerNorm "norm" and an untied
// linear "head".
class MiniGPT : public Model {
 public:
  MiniGPT(int64_t vocab, int64_t context, const TransformerSize& size, uint64_t seed,
          torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;

 private:
  Embedding tok_, pos_;
  std::vector<TransformerBlock> blocks_;
  LayerNorm norm_;
  Linear head_;
};

// Source ids x [B, S] (x_mask: padding) and target ids y [B, T+1] (<bos> … <eos>, padded)
// → logits [B, T, tgt_vocab] for y[:, 1:], teacher-forced on y[:, :-1]. Encoder blocks
// "encoder.layers.i", decoder blocks "decoder.layers.i"; key-padding masks on the source
// (encoder self-attention and cross-attention) and on the target (decoder).
class Seq2SeqTransformer : public Model {
 public:
  Seq2SeqTransformer(int64_t src_vocab, int64_t tgt_vocab, int64_t max_len,
                     const TransformerSize& size, uint64_t seed,
                     torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;
  // Greedy decoding: ids [B, ≤ max_steps] after <bos>, up to and without <eos>
  // (padding after it).
  torch::Tensor greedy_decode(const Ctx& c, const torch::Tensor& src, const torch::Tensor& src_mask,
                              int64_t max_steps) const;

 private:
  torch::Tensor encode(const Ctx& c, const torch::Tensor& src, const torch::Tensor& src_mask) const;
  torch::Tensor decode(const Ctx& c, const torch::Tensor& memory, const torch::Tensor& src_mask,
                       const torch::Tensor& tgt_in) const;
  torch::Tensor embed(const Ctx& c, const Embedding& tok, const torch::Tensor& ids) const;
  Embedding src_tok_, tgt_tok_, pos_;
  std::vector<TransformerBlock> enc_;
  LayerNorm enc_norm_;
  std::vector<DecoderBlock> dec_;
  LayerNorm dec_norm_;
  Linear head_;
  int64_t dim_ = 0;
};

// Token ids x [B, T] with lengths → class logits: embedding "emb", a bidirectional LSTM
// "lstm" on explicit cells, the last layer's final forward and reverse states
// concatenated, a linear "fc". Padding never reaches the final states (nn/lstm.h).
class BiLSTMClassifier : public Model {
 public:
  BiLSTMClassifier(int64_t vocab, int64_t embed, int64_t hidden, int64_t layers, int64_t classes,
                   double dropout, uint64_t seed, torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;

 private:
  Embedding emb_;
  LSTM lstm_;
  Linear fc_;
  int64_t layers_ = 0;
  double dropout_ = 0.0;
};

// A window x [B, W, F] of normalized variables → the next value of the target [B, 1]: a
// linear input projection "input", learned positions, pre-norm blocks "encoder.layers.i",
// a LayerNorm "norm" and a linear "head" on the last position.
class TransformerForecaster : public Model {
 public:
  TransformerForecaster(int64_t variables, int64_t window, const TransformerSize& size,
                        uint64_t seed, torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;

 private:
  Linear input_;
  Embedding pos_;
  std::vector<TransformerBlock> blocks_;
  LayerNorm norm_;
  Linear head_;
};

}  // namespace maw::nn
