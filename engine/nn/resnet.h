// ResNet for small images (the paper's CIFAR-10 ResNet-18): a 3×3 stem without max-pool,
// four stages of BasicBlocks ("layer1" … "layer4", widths w, 2w, 4w, 8w, strides 1, 2, 2,
// 2) with BatchNorm and 1×1 projection shortcuts, global average pooling and a linear
// "fc". width 64 with blocks {2, 2, 2, 2} is ResNet-18 (11.17 M parameters for 10 classes).
#pragma once

#include <vector>

#include "nn/layers.h"
#include "nn/model.h"

namespace maw::nn {

struct ResNetOptions {
  int64_t in_channels = 3;
  int64_t classes = 10;
  int64_t width = 64;
  std::vector<int64_t> blocks = {2, 2, 2, 2};
};

class ResNet : public Model {
 public:
  ResNet(const ResNetOptions& o, uint64_t seed, torch::Dtype dtype = torch::kFloat);
  torch::Tensor forward(const Ctx& c, const data::Batch& batch) const override;

 private:
  struct Block {
    Conv2d conv1, conv2;
    BatchNorm2d bn1, bn2;
    bool project = false;
    Conv2d shortcut_conv;
    BatchNorm2d shortcut_bn;
  };
  Conv2d conv1_;
  BatchNorm2d bn1_;
  std::vector<Block> blocks_;
  Linear fc_;
};

}  // namespace maw::nn
