// The models of step 1: an MLP and a small Transformer classifier. Task-specific models
// (ResNet, MiniGPT, encoder-decoder, BiLSTM, forecaster) join them with the tasks.
#pragma once

#include <vector>

#include "nn/layers.h"
#include "nn/lstm.h"
#include "nn/model.h"
#include "nn/transformer.h"

namespace maw::nn {

// x [B, in] → [B, out]; ReLU between the linears "layers.0", "layers.1", ...
class MLP : public Model {
 public:
  MLP(int64_t in, std::vector<int64_t> hidden, int64_t out, uint64_t seed,
      torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;
  torch::Tensor forward(const Ctx& c, const torch::Tensor& x) const;

 private:
  std::vector<Linear> layers_;
};

struct TransformerClassifierOptions {
  int64_t vocab = 100;
  int64_t max_len = 64;
  int64_t dim = 32;
  int64_t heads = 4;
  int64_t ffn_hidden = 64;
  int64_t layers = 2;
  int64_t classes = 2;
  double dropout = 0.0;
};

// Token ids [B, T] (+ x_mask) → logits [B, classes]: token and position embeddings,
// pre-norm blocks "encoder.layers.i", a final LayerNorm "norm", mean-pooling over real
// tokens, and a linear "head".
class TransformerClassifier : public Model {
 public:
  TransformerClassifier(const TransformerClassifierOptions& o, uint64_t seed,
                        torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;

 private:
  Embedding tok_, pos_;
  std::vector<TransformerBlock> blocks_;
  LayerNorm norm_;
  Linear head_;
};

}  // namespace maw::nn
