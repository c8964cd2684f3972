// The image task end to end (tiny preset) and its model.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/errors.h"
#include "api/session.h"
#include "data/datasets.h"
#include "nn/conv_check.h"
#include "nn/resnet.h"
#include "optim/param_groups.h"

namespace maw {
namespace {

RunConfig tiny_image() {
  RunConfig c;
  c.set("task", "image");
  c.set("preset", "tiny");
  c.set("device", "cpu");
  c.set("threads", "2");
  return c;
}

TEST(ResNet, EighteenHasTheUsualParameterCountAndDepthGroups) {
  nn::ResNet r18(nn::ResNetOptions{}, 0);
  EXPECT_EQ(r18.store().numel(), 11173962);
  EXPECT_EQ(r18.store().size(), 62);
  const auto groups = optim::make_groups(r18.store().info(), optim::GroupingSpec{});
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"conv/shallow/weight", "norm/shallow/bias",
                                      "conv/middle/weight", "norm/middle/bias", "conv/deep/weight",
                                      "norm/deep/bias", "linear/deep/weight", "linear/deep/bias"}));
  data::Batch b;
  b.x = torch::randn({2, 3, 32, 32});
  EXPECT_EQ(r18.forward(r18.ctx(false, false), b).sizes(), (std::vector<int64_t>{2, 10}));
}

// Whatever kernels the check leaves in charge convolve like float64 on the check's shapes —
// on Debian 13's LibTorch 2.6 (system oneDNN 3.7.2) on an AVX-512 AMD EPYC, oneDNN alone
// was off by O(1) or NaN and the ResNet runs below diverged.
TEST(ConvCheck, TheKernelsARunUsesAgreeWithFloat64) {
  at::set_num_threads(2);
  const auto& check = nn::check_cpu_convolution();
  EXPECT_TRUE(check.summary.rfind("onednn (", 0) == 0 || check.summary.rfind("native", 0) == 0)
      << check.summary;
  const auto m = nn::measure_cpu_convolution();
  EXPECT_EQ(m.first_failure, "") << check.summary;
  EXPECT_LT(m.worst_error, 1e-4) << check.summary;
  EXPECT_EQ(&nn::check_cpu_convolution(), &check);  // once per process
}

TEST(ImageTask, TinyFashionMnistRunLearnsWithBothOptimizers) {
  if (!find_dataset("fashion-mnist", resolve_data_dir()).present)
    GTEST_SKIP() << "Fashion-MNIST not installed: " << fetch_command("fashion-mnist");
  for (const char* opt : {"adamw", "metaadamw"}) {
    auto c = tiny_image();
    c.set("optimizer", opt);
    c.set("meta_update_freq", "10");
    c.set("lr", "3e-3");
    Session s(c);
    const auto r = s.run();
    EXPECT_EQ(r.status, RunStatus::completed) << opt;
    EXPECT_EQ(r.steps, 40);
    EXPECT_EQ(r.metric_name, "accuracy");
    EXPECT_GT(r.eval_metric, 0.35) << opt << ": the majority class scores 0.10";
    if (std::string(opt) == "metaadamw") {
      EXPECT_EQ(r.meta_updates, 4);
    }
  }
}

TEST(ImageTask, Cifar10BatchesFromAFolder) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / ("cifar_" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, int records) {
    std::ofstream out(dir / name, std::ios::binary);
    for (int r = 0; r < records; ++r) {
      out.put(static_cast<char>(r % 10));
      for (int i = 0; i < 3072; ++i) out.put(static_cast<char>((i * (r + 1)) % 256));
    }
  };
  for (int i = 1; i <= 5; ++i) write("data_batch_" + std::to_string(i) + ".bin", 8);
  write("test_batch.bin", 6);
  auto c = tiny_image();
  c.set("image.dataset", "cifar10");
  c.set("image.cifar_dir", dir.string());
  c.set("steps", "3");
  c.set("batch_size", "8");
  Session s(c);
  const auto r = s.run();
  EXPECT_EQ(r.status, RunStatus::completed);
  EXPECT_EQ(r.steps, 3);
  fs::remove_all(dir);
  // Without the folder: a clear configuration error.
  auto bad = tiny_image();
  bad.set("image.dataset", "cifar10");
  Session s2(bad);
  EXPECT_THROW(s2.run(), ConfigError);
}

}  // namespace
}  // namespace maw
