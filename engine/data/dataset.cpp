#include "data/dataset.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace maw::data {

Batch TensorDataset::get(const torch::Tensor& indices) const {
  Batch b;
  b.x = x_.index_select(0, indices);
  b.y = y_.index_select(0, indices);
  return b;
}

Batch SequenceDataset::get(const torch::Tensor& indices) const {
  Batch b;
  b.lengths = xl_.index_select(0, indices);
  const int64_t tx = std::max<int64_t>(1, b.lengths.max().item<int64_t>());
  b.x = x_.index_select(0, indices).slice(1, 0, tx).contiguous();
  b.x_mask = torch::arange(tx, torch::kLong).unsqueeze(0) >= b.lengths.unsqueeze(1);
  b.y = y_.index_select(0, indices);
  if (yl_.defined()) {
    const int64_t ty = std::max<int64_t>(1, yl_.index_select(0, indices).max().item<int64_t>());
    b.y = b.y.slice(1, 0, ty).contiguous();
  }
  return b;
}

BatchStream::BatchStream(int64_t n, int64_t batch_size, uint64_t seed, bool shuffle)
    : n_(n),
      batch_(std::min(batch_size, n)),
      per_epoch_(0),
      shuffle_(shuffle),
      gen_(at::detail::createCPUGenerator(seed)) {
  if (n <= 0) throw std::invalid_argument("BatchStream over an empty split");
  if (batch_size <= 0) throw std::invalid_argument("batch size must be positive");
  per_epoch_ = n_ / batch_;
}

torch::Tensor BatchStream::next() {
  if (epoch_ < 0 || pos_ + batch_ > n_) {
    order_ = shuffle_ ? torch::randperm(n_, gen_, torch::kLong) : torch::arange(n_, torch::kLong);
    pos_ = 0;
    ++epoch_;
  }
  auto idx = order_.slice(0, pos_, pos_ + batch_);
  pos_ += batch_;
  return idx;
}

void BatchStream::save(torch::serialize::OutputArchive& a) const {
  a.write("generator", gen_.get_state(), true);
  a.write("position", torch::tensor({pos_, epoch_, n_, batch_}, torch::kInt64), true);
  if (order_.defined()) a.write("order", order_, true);
}

void BatchStream::load(torch::serialize::InputArchive& a) {
  torch::Tensor state, pos;
  a.read("generator", state, true);
  a.read("position", pos, true);
  if (pos[2].item<int64_t>() != n_ || pos[3].item<int64_t>() != batch_)
    throw std::runtime_error("checkpoint: the data stream has another split size or batch size");
  gen_.set_state(state);
  pos_ = pos[0].item<int64_t>();
  epoch_ = pos[1].item<int64_t>();
  torch::Tensor order;
  order_ = a.try_read("order", order, true) ? order : torch::Tensor();
}

}  // namespace maw::data
