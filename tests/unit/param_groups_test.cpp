// Grouping strategies (METAADAMW.md §1) on an MLP, a Transformer, a CNN with BatchNorm and
// a BiLSTM: the expected groups, by name, in order.
#include "optim/param_groups.h"

#include <gtest/gtest.h>

#include <set>

#include "api/errors.h"
#include "nn/models.h"
#include "test_models.h"

namespace maw::optim {
namespace {

std::vector<std::string> names(const std::vector<ParamGroup>& gs) {
  std::vector<std::string> out;
  for (const auto& g : gs) out.push_back(g.name);
  return out;
}

const ParamGroup& group(const std::vector<ParamGroup>& gs, const std::string& name) {
  for (const auto& g : gs)
    if (g.name == name) return g;
  throw std::runtime_error("no group " + name);
}

GroupingSpec spec(const std::string& strategy) {
  GroupingSpec s;
  s.strategy = strategy;
  return s;
}

void expect_partition(const std::vector<ParamGroup>& gs, const nn::ParamStore& store) {
  std::set<int> seen;
  int64_t numel = 0;
  for (const auto& g : gs) {
    EXPECT_FALSE(g.slots.empty()) << g.name;
    EXPECT_EQ(g.slots.size(), g.tensor_names.size());
    for (size_t i = 0; i < g.slots.size(); ++i) {
      EXPECT_TRUE(seen.insert(g.slots[i]).second) << "tensor in two groups";
      EXPECT_EQ(store.info()[static_cast<size_t>(g.slots[i])].name, g.tensor_names[i]);
    }
    numel += g.numel;
  }
  EXPECT_EQ(static_cast<int>(seen.size()), store.size());
  EXPECT_EQ(numel, store.numel());
}

TEST(ParamGroups, MlpFineGrainedBucketsThreeLinearsByDepth) {
  nn::MLP mlp(4, {8, 8}, 2, 0);
  const auto gs = make_groups(mlp.store().info(), spec("fine_grained"));
  EXPECT_EQ(names(gs), (std::vector<std::string>{"linear/shallow/weight", "linear/shallow/bias",
                                                 "linear/middle/weight", "linear/middle/bias",
                                                 "linear/deep/weight", "linear/deep/bias"}));
  EXPECT_EQ(group(gs, "linear/deep/weight").tensor_names,
            std::vector<std::string>{"layers.2.weight"});
  EXPECT_EQ(group(gs, "linear/shallow/weight").numel, 32);
  expect_partition(gs, mlp.store());
}

TEST(ParamGroups, PerTensorAndPerModuleNameTheirMembers) {
  nn::MLP mlp(4, {8}, 2, 0);
  const auto pt = make_groups(mlp.store().info(), spec("per_tensor"));
  EXPECT_EQ(names(pt), (std::vector<std::string>{"layers.0.weight", "layers.0.bias",
                                                 "layers.1.weight", "layers.1.bias"}));
  const auto pm = make_groups(mlp.store().info(), spec("per_module"));
  EXPECT_EQ(names(pm), (std::vector<std::string>{"layers.0", "layers.1"}));
  EXPECT_EQ(pm[0].numel, 4 * 8 + 8);
  expect_partition(pm, mlp.store());
}

TEST(ParamGroups, TransformerKindsAndDepthBuckets) {
  nn::TransformerClassifierOptions o;
  o.layers = 3;
  nn::TransformerClassifier model(o, 0);
  const auto gs = make_groups(model.store().info(), spec("fine_grained"));
  expect_partition(gs, model.store());
  // Embeddings come before layer 0: shallow.
  EXPECT_EQ(group(gs, "embedding/shallow/weight").tensor_names,
            (std::vector<std::string>{"tok_emb.weight", "pos_emb.weight"}));
  // Attention projections of layer 0, FFN linears of layer 1, by module type.
  EXPECT_EQ(group(gs, "attention/shallow/weight").tensor_names,
            (std::vector<std::string>{
                "encoder.layers.0.attn.q_proj.weight", "encoder.layers.0.attn.k_proj.weight",
                "encoder.layers.0.attn.v_proj.weight", "encoder.layers.0.attn.out_proj.weight"}));
  EXPECT_EQ(group(gs, "feed_forward/middle/weight").tensor_names,
            (std::vector<std::string>{"encoder.layers.1.ffn.linear1.weight",
                                      "encoder.layers.1.ffn.linear2.weight"}));
  // LayerNorm weights are 1-D: in the bias group of their depth; the final norm is deep.
  const auto& deep_norm = group(gs, "norm/deep/bias").tensor_names;
  EXPECT_NE(std::find(deep_norm.begin(), deep_norm.end(), "norm.weight"), deep_norm.end());
  EXPECT_NE(std::find(deep_norm.begin(), deep_norm.end(), "encoder.layers.2.ln1.weight"),
            deep_norm.end());
  EXPECT_EQ(group(gs, "linear/deep/weight").tensor_names, std::vector<std::string>{"head.weight"});
}

TEST(ParamGroups, TwoLayerTransformerIsAllMiddle) {
  nn::TransformerClassifier model(nn::TransformerClassifierOptions{}, 0);
  for (const auto& g : make_groups(model.store().info(), spec("fine_grained")))
    EXPECT_NE(g.name.find("/middle/"), std::string::npos) << g.name;
}

TEST(ParamGroups, CnnWithBatchNormHasConvAndNormGroups) {
  testing::SmallCNN cnn(0);
  const auto gs = make_groups(cnn.store().info(), spec("fine_grained"));
  expect_partition(gs, cnn.store());
  EXPECT_EQ(names(gs),
            (std::vector<std::string>{"conv/shallow/weight", "norm/shallow/bias",
                                      "conv/middle/weight", "norm/middle/bias", "conv/deep/weight",
                                      "norm/deep/bias", "linear/deep/weight", "linear/deep/bias"}));
  // The stem (before block 0) is shallow together with block 0.
  EXPECT_EQ(group(gs, "conv/shallow/weight").tensor_names,
            (std::vector<std::string>{"conv1.weight", "blocks.0.conv.weight"}));
}

TEST(ParamGroups, BiLstmIsRecurrent) {
  testing::BiLSTMClassifier model(0);
  const auto gs = make_groups(model.store().info(), spec("fine_grained"));
  expect_partition(gs, model.store());
  EXPECT_EQ(names(gs), (std::vector<std::string>{"embedding/middle/weight",
                                                 "recurrent/middle/weight", "recurrent/middle/bias",
                                                 "linear/middle/weight", "linear/middle/bias"}));
  EXPECT_EQ(group(gs, "recurrent/middle/weight").tensor_names.size(), 8u);  // 2 layers × 2 dirs × 2
}

TEST(ParamGroups, CustomRulesFirstMatchWinsAndRestIsOther) {
  nn::TransformerClassifier model(nn::TransformerClassifierOptions{}, 0);
  GroupingSpec s;
  s.strategy = "custom";
  s.rules = GroupingSpec::parse_rules(R"(attn\.(q|k)_proj=qk;attn=attn_rest;emb=embeddings)");
  const auto gs = make_groups(model.store().info(), s);
  EXPECT_EQ(names(gs), (std::vector<std::string>{"embeddings", "other", "qk", "attn_rest"}));
  EXPECT_EQ(group(gs, "qk").tensor_names.size(), 8u);  // q, k weights and biases × 2 layers
  expect_partition(gs, model.store());
}

TEST(ParamGroups, BadCustomRuleOrStrategyIsAConfigError) {
  nn::MLP mlp(2, {}, 1, 0);
  GroupingSpec s;
  s.strategy = "custom";
  s.rules = {{"([unclosed", "x"}};
  EXPECT_THROW(make_groups(mlp.store().info(), s), ConfigError);
  EXPECT_THROW(GroupingSpec::parse_rules("no_equals_sign"), ConfigError);
  EXPECT_THROW(make_groups(mlp.store().info(), spec("per_galaxy")), ConfigError);
}

TEST(ParamGroups, KindsFromNamesWhenTypesAreUnknown) {
  auto kind = [](const std::string& name) {
    nn::ParamInfo i;
    i.name = name;
    return std::string(to_string(infer_kind(i)));
  };
  EXPECT_EQ(kind("encoder.layers.0.self_attn.in_proj_weight"), "attention");
  EXPECT_EQ(kind("encoder.layers.0.linear1.weight"), "feed_forward");
  EXPECT_EQ(kind("h.3.mlp.c_fc.weight"), "feed_forward");
  EXPECT_EQ(kind("layer1.0.bn1.weight"), "norm");
  EXPECT_EQ(kind("rnn.weight_hh_l0"), "recurrent");
  EXPECT_EQ(kind("conv1.weight"), "conv");
  EXPECT_EQ(kind("fc.weight"), "linear");
  EXPECT_EQ(kind("tok_embeddings.weight"), "embedding");
  EXPECT_EQ(kind("temperature"), "other");
}

TEST(ParamGroups, LayerIndexFromModulePath) {
  EXPECT_EQ(layer_index("encoder.layers.3.attn.q_proj.weight"), 3);
  EXPECT_EQ(layer_index("layer2.0.conv1.weight"), 2);
  EXPECT_EQ(layer_index("h.11.ln_1.weight"), 11);
  EXPECT_EQ(layer_index("conv1.weight"), -1);
  EXPECT_EQ(layer_index("lstm.weight_ih_l1"), -1);
  EXPECT_EQ(layer_index("bias"), -1);
}

}  // namespace
}  // namespace maw::optim
