#include "nn/resnet.h"

namespace maw::nn {

ResNet::ResNet(const ResNetOptions& o, uint64_t seed, torch::Dtype dtype)
    : Model("ResNet", seed, dtype) {
  const Scope r = root();
  conv1_ = Conv2d(r.child("conv1", "Conv2d"), o.in_channels, o.width, 3, 1, 1, false);
  bn1_ = BatchNorm2d(r.child("bn1", "BatchNorm2d"), o.width);
  int64_t in = o.width;
  for (size_t stage = 0; stage < o.blocks.size(); ++stage) {
    const int64_t w = o.width << stage;
    const Scope layer = r.sub("layer" + std::to_string(stage + 1));
    for (int64_t b = 0; b < o.blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      const Scope s = layer.child(std::to_string(b), "BasicBlock");
      Block blk;
      blk.conv1 = Conv2d(s.child("conv1", "Conv2d"), in, w, 3, stride, 1, false);
      blk.bn1 = BatchNorm2d(s.child("bn1", "BatchNorm2d"), w);
      blk.conv2 = Conv2d(s.child("conv2", "Conv2d"), w, w, 3, 1, 1, false);
      blk.bn2 = BatchNorm2d(s.child("bn2", "BatchNorm2d"), w);
      if (stride != 1 || in != w) {
        blk.project = true;
        const Scope sc = s.sub("shortcut");
        blk.shortcut_conv = Conv2d(sc.child("0", "Conv2d"), in, w, 1, stride, 0, false);
        blk.shortcut_bn = BatchNorm2d(sc.child("1", "BatchNorm2d"), w);
      }
      blocks_.push_back(blk);
      in = w;
    }
  }
  fc_ = Linear(r.child("fc", "Linear"), in, o.classes);
}

torch::Tensor ResNet::forward(const Ctx& c, const data::Batch& batch) const {
  auto h = torch::relu(bn1_.forward(c, conv1_.forward(c, batch.x)));  // [B, w, H, W]
  for (const auto& b : blocks_) {
    auto y = torch::relu(b.bn1.forward(c, b.conv1.forward(c, h)));
    y = b.bn2.forward(c, b.conv2.forward(c, y));
    const auto skip = b.project ? b.shortcut_bn.forward(c, b.shortcut_conv.forward(c, h)) : h;
    h = torch::relu(y + skip);
  }
  return fc_.forward(c, h.mean({2, 3}));  // global average pooling → [B, classes]
}

}  // namespace maw::nn
