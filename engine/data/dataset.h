// Datasets as the trainer sees them, and the shuffled batch streams that walk them.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "data/batch.h"

namespace maw::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // The examples at `indices` (int64 [B]) as one batch, on the CPU.
  virtual Batch get(const torch::Tensor& indices) const = 0;
};

// Examples stored as whole tensors, indexed along dimension 0.
class TensorDataset : public Dataset {
 public:
  TensorDataset() = default;
  TensorDataset(torch::Tensor x, torch::Tensor y) : x_(std::move(x)), y_(std::move(y)) {}
  int64_t size() const override { return x_.defined() ? x_.size(0) : 0; }
  Batch get(const torch::Tensor& indices) const override;
  const torch::Tensor& x() const { return x_; }
  const torch::Tensor& y() const { return y_; }

 private:
  torch::Tensor x_, y_;
};

// Padded token sequences (pad id 0) with their lengths. A batch is trimmed to its longest
// sequence and carries x_mask (true at padding) and lengths. y is either one label per
// example or, with y_lengths, a padded target sequence trimmed the same way.
class SequenceDataset : public Dataset {
 public:
  SequenceDataset() = default;
  SequenceDataset(torch::Tensor x, torch::Tensor x_lengths, torch::Tensor y,
                  torch::Tensor y_lengths = {})
      : x_(std::move(x)), xl_(std::move(x_lengths)), y_(std::move(y)), yl_(std::move(y_lengths)) {}
  int64_t size() const override { return x_.defined() ? x_.size(0) : 0; }
  Batch get(const torch::Tensor& indices) const override;
  const torch::Tensor& x() const { return x_; }
  const torch::Tensor& y() const { return y_; }
  const torch::Tensor& x_lengths() const { return xl_; }
  const torch::Tensor& y_lengths() const { return yl_; }

 private:
  torch::Tensor x_, xl_, y_, yl_;
};

// An endless stream of index batches over n examples: a fresh permutation each epoch
// from its own generator (so two streams with different seeds are independent, and two
// runs with the same seed see the same order). The last partial batch of an epoch is
// dropped when the split holds at least one full batch.
class BatchStream {
 public:
  BatchStream(int64_t n, int64_t batch_size, uint64_t seed, bool shuffle = true);
  torch::Tensor next();                     // int64 [B]
  int64_t epoch() const { return epoch_; }  // 0-based epoch of the batch last returned
  int64_t batches_per_epoch() const { return per_epoch_; }

  // Position and generator state, so that a resumed run continues the same order.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  int64_t n_, batch_, per_epoch_;
  bool shuffle_;
  at::Generator gen_;
  torch::Tensor order_;
  int64_t pos_ = 0;
  int64_t epoch_ = -1;
};

}  // namespace maw::data
