#include "tasks/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>

namespace maw::tasks {
namespace {

constexpr int64_t kClasses = 4;
constexpr int64_t kTeacherHidden = 32;

}  // namespace

SyntheticTask::SyntheticTask(const RunConfig& c, torch::Dtype dtype)
    : regression_(c.synthetic_kind == "regression") {
  const int64_t d = c.synthetic_input_dim, h = c.synthetic_hidden;
  const int64_t out = regression_ ? 1 : kClasses;
  // Data and teacher from generators of their own, so that the student's initialization
  // (the model's generator, also from the seed) does not shift the data.
  auto gen = at::detail::createCPUGenerator(c.seed * 2654435761ULL + 17);
  auto opts = torch::TensorOptions().dtype(dtype);
  auto w1 = torch::randn({kTeacherHidden, d}, gen, opts) / std::sqrt(static_cast<double>(d));
  auto w2 = torch::randn({out, kTeacherHidden}, gen, opts) /
            std::sqrt(static_cast<double>(kTeacherHidden));
  auto teacher = [&](const torch::Tensor& x) {
    return torch::tanh(x.matmul(w1.t()) * 2.0).matmul(w2.t());
  };

  const int64_t n_train_all = c.synthetic_n_train, n_eval = c.synthetic_n_eval;
  const int64_t n_meta = std::max<int64_t>(1, n_train_all / 10);
  const int64_t n_train = n_train_all - n_meta;
  auto x = torch::randn({n_train_all + n_eval, d}, gen, opts);
  auto t = teacher(x);
  torch::Tensor y;
  if (regression_) {
    auto tr = t.slice(0, 0, n_train);  // normalization statistics from train only
    t = (t - tr.mean()) / tr.std();
    y = t + c.synthetic_noise * torch::randn(t.sizes(), gen, opts);
    naive_ = (y.slice(0, n_train_all) - y.slice(0, 0, n_train).mean()).pow(2).mean().item<double>();
    naive_name_ = "train mean";
  } else {
    y = t.argmax(1);
    auto counts = torch::bincount(y.slice(0, 0, n_train), {}, kClasses);
    const int64_t majority = counts.argmax().item<int64_t>();
    naive_ = y.slice(0, n_train_all).eq(majority).to(torch::kDouble).mean().item<double>();
    naive_name_ = "majority class";
  }
  train_ = data::TensorDataset(x.slice(0, 0, n_train), y.slice(0, 0, n_train));
  meta_val_ =
      data::TensorDataset(x.slice(0, n_train, n_train_all), y.slice(0, n_train, n_train_all));
  eval_ = data::TensorDataset(x.slice(0, n_train_all), y.slice(0, n_train_all));
  model_ = std::make_unique<nn::MLP>(d, std::vector<int64_t>{h, h}, out, c.seed, dtype);
}

torch::Tensor SyntheticTask::loss(const torch::Tensor& outputs, const data::Batch& b) const {
  if (regression_) return torch::mse_loss(outputs, b.y);
  return torch::cross_entropy_loss(outputs, b.y);
}

double SyntheticTask::metric_sum(const torch::Tensor& outputs, const data::Batch& b) const {
  if (regression_) return (outputs - b.y).pow(2).mean(1).sum().item<double>();
  return outputs.argmax(1).eq(b.y).sum().item<double>();
}

// The synthetic task's presets (api/presets.h): {key, tiny, small, paper}.
const std::vector<PresetRow>& synthetic_presets() {
  // clang-format off
  static const std::vector<PresetRow> rows = {
    // key                  tiny    small    paper
    {"steps", "150", "3000", "20000"},
    {"batch_size", "32", "64", "128"},
    {"synthetic.n_train", "1024", "16384", "65536"},
    {"synthetic.n_eval", "256", "4096", "16384"},
    {"synthetic.input_dim", "8", "32", "64"},
    {"synthetic.hidden", "32", "128", "256"},
  };
  // clang-format on
  return rows;
}

}  // namespace maw::tasks
