#include "tasks/image.h"

#include <filesystem>
#include <sstream>

#include "api/errors.h"
#include "data/datasets.h"
#include "data/image_readers.h"
#include "tasks/task_util.h"

namespace maw::tasks {
namespace {

torch::Tensor to_tensor(const data::ImageSet& s) {
  auto t = torch::from_blob(const_cast<uint8_t*>(s.pixels.data()),
                            {s.count, s.channels, s.height, s.width}, torch::kUInt8);
  return t.to(torch::kFloat).div_(255.0);  // a copy: owns its memory
}

torch::Tensor labels(const data::ImageSet& s) {
  return torch::from_blob(const_cast<uint8_t*>(s.labels.data()), {s.count}, torch::kUInt8)
      .to(torch::kLong);
}

std::vector<int64_t> parse_blocks(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      out.push_back(std::stoll(item));
    } catch (const std::exception&) {
      out.clear();
      break;
    }
  }
  if (out.empty())
    throw ConfigError("invalid value '" + text +
                      "' for key 'image.blocks': allowed blocks per stage, e.g. 2,2,2,2");
  for (auto b : out)
    if (b < 1) throw ConfigError("invalid value '" + text + "' for key 'image.blocks': each >= 1");
  return out;
}

}  // namespace

ImageTask::ImageTask(const RunConfig& c, torch::Dtype dtype) {
  data::ImageSet train, test;
  if (c.image_dataset == "fashion-mnist") {
    const auto d = require_dataset("fashion-mnist", resolve_data_dir(c.data_dir));
    train = data::read_idx_split(d.path + "/train-images-idx3-ubyte.gz",
                                 d.path + "/train-labels-idx1-ubyte.gz");
    test = data::read_idx_split(d.path + "/t10k-images-idx3-ubyte.gz",
                                d.path + "/t10k-labels-idx1-ubyte.gz");
  } else {
    if (c.image_cifar_dir.empty())
      throw ConfigError(
          "image.dataset=cifar10 needs image.cifar_dir: the folder with data_batch_1.bin … "
          "data_batch_5.bin and test_batch.bin (CIFAR-10 binary version)");
    std::vector<std::string> batches;
    for (int i = 1; i <= 5; ++i)
      batches.push_back(c.image_cifar_dir + "/data_batch_" + std::to_string(i) + ".bin");
    train = data::read_cifar10(batches);
    test = data::read_cifar10({c.image_cifar_dir + "/test_batch.bin"});
  }
  auto x = to_tensor(train);
  auto y = labels(train);
  auto tx = to_tensor(test);
  auto ty = labels(test);

  // A seeded subset (presets), then 10% of it as meta-validation.
  const auto split = detail::train_meta_split(x.size(0), c.image_n_train, c.seed, 29);
  const auto &meta_idx = split.meta, &train_idx = split.train;
  const int64_t ne = detail::cap(c.image_n_eval, tx.size(0));
  tx = tx.slice(0, 0, ne);
  ty = ty.slice(0, 0, ne);

  // Per-channel standardization with train statistics only.
  auto xtr = x.index_select(0, train_idx);
  const auto mean = xtr.mean({0, 2, 3}, true), std = xtr.std({0, 2, 3}, true, true);
  auto norm = [&](const torch::Tensor& t) { return ((t - mean) / std).to(dtype); };
  train_ = data::TensorDataset(norm(xtr), y.index_select(0, train_idx));
  meta_val_ = data::TensorDataset(norm(x.index_select(0, meta_idx)), y.index_select(0, meta_idx));
  eval_ = data::TensorDataset(norm(tx), ty);
  const auto counts = torch::bincount(train_.y(), {}, 10);
  naive_ = ty.eq(counts.argmax()).to(torch::kDouble).mean().item<double>();
  naive_name_ = "majority class";

  nn::ResNetOptions o;
  o.in_channels = train.channels;
  o.classes = 10;
  o.width = c.image_width;
  o.blocks = parse_blocks(c.image_blocks);
  model_ = std::make_unique<nn::ResNet>(o, c.seed, dtype);
}

torch::Tensor ImageTask::loss(const torch::Tensor& outputs, const data::Batch& b) const {
  return torch::cross_entropy_loss(outputs, b.y);
}

double ImageTask::metric_sum(const torch::Tensor& outputs, const data::Batch& b) const {
  return outputs.argmax(1).eq(b.y).sum().item<double>();
}

// The image task's presets (api/presets.h): {key, tiny, small, paper}.
const std::vector<PresetRow>& image_presets() {
  // clang-format off
  static const std::vector<PresetRow> rows = {
    // tiny: seconds; small: minutes on 2 cores; paper: ResNet-18, 30 epochs (a GPU)
    {"steps", "40", "", ""},
    {"epochs", "", "1", "30"},
    {"eval_every", "", "100", ""},
    {"batch_size", "32", "128", "128"},
    {"image.width", "8", "16", "64"},
    {"image.blocks", "1,1,1,1", "1,1,1,1", "2,2,2,2"},
    {"image.n_train", "1024", "0", "0"},
    {"image.n_eval", "512", "0", "0"},
  };
  // clang-format on
  return rows;
}

}  // namespace maw::tasks
