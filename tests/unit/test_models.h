// Small models built by the tests from the engine's layers: a CNN with BatchNorm, a
// BiLSTM classifier, and a probe that wraps any layer for gradient checks.
#pragma once

#include <torch/torch.h>

#include <functional>

#include "nn/layers.h"
#include "nn/lstm.h"
#include "nn/model.h"
#include "nn/transformer.h"

namespace maw::testing {

// stem conv1/bn1, three blocks "blocks.i" of conv + bn, a linear "fc".
class SmallCNN : public nn::Model {
 public:
  explicit SmallCNN(uint64_t seed, torch::Dtype dtype = torch::kFloat)
      : Model("SmallCNN", seed, dtype) {
    const auto r = root();
    conv1_ = nn::Conv2d(r.child("conv1", "Conv2d"), 1, 4, 3, 1, 1, false);
    bn1_ = nn::BatchNorm2d(r.child("bn1", "BatchNorm2d"), 4);
    const auto blocks = r.sub("blocks");
    for (int i = 0; i < 3; ++i) {
      const auto b = blocks.child(std::to_string(i), "BasicBlock");
      convs_.emplace_back(b.child("conv", "Conv2d"), 4, 4, 3, 1, 1, false);
      bns_.emplace_back(b.child("bn", "BatchNorm2d"), 4);
    }
    fc_ = nn::Linear(r.child("fc", "Linear"), 4, 3);
  }
  torch::Tensor forward(const nn::Ctx& c, const data::Batch& b) const override {
    auto h = torch::relu(bn1_.forward(c, conv1_.forward(c, b.x)));
    for (size_t i = 0; i < convs_.size(); ++i)
      h = torch::relu(h + bns_[i].forward(c, convs_[i].forward(c, h)));
    return fc_.forward(c, h.mean({2, 3}));
  }

 private:
  nn::Conv2d conv1_;
  nn::BatchNorm2d bn1_;
  std::vector<nn::Conv2d> convs_;
  std::vector<nn::BatchNorm2d> bns_;
  nn::Linear fc_;
};

// Embedding "emb", a 2-layer bidirectional LSTM "lstm", a linear "fc" on the final states.
class BiLSTMClassifier : public nn::Model {
 public:
  explicit BiLSTMClassifier(uint64_t seed, torch::Dtype dtype = torch::kFloat)
      : Model("BiLSTMClassifier", seed, dtype) {
    const auto r = root();
    emb_ = nn::Embedding(r.child("emb", "Embedding"), 20, 6);
    lstm_ = nn::LSTM(r.child("lstm", "LSTM"), 6, 5, 2, true);
    fc_ = nn::Linear(r.child("fc", "Linear"), 10, 2);
  }
  torch::Tensor forward(const nn::Ctx& c, const data::Batch& b) const override {
    auto out = lstm_.forward(c, emb_.forward(c, b.x), b.lengths);
    // Last layer's forward and reverse final states: rows 2 and 3 of h_n.
    auto h = torch::cat({out.h_n[2], out.h_n[3]}, 1);
    return fc_.forward(c, h);
  }

 private:
  nn::Embedding emb_;
  nn::LSTM lstm_;
  nn::Linear fc_;
};

// Any forward built on a Scope: Probe([](const nn::Scope& s) { ...; return fwd; }).
class Probe : public nn::Model {
 public:
  using Forward = std::function<torch::Tensor(const nn::Ctx&, const data::Batch&)>;
  explicit Probe(const std::function<Forward(const nn::Scope&)>& build,
                 torch::Dtype dtype = torch::kDouble, uint64_t seed = 11)
      : Model("Probe", seed, dtype) {
    fwd_ = build(root());
  }
  torch::Tensor forward(const nn::Ctx& c, const data::Batch& b) const override {
    return fwd_(c, b);
  }

 private:
  Forward fwd_;
};

}  // namespace maw::testing
