// Parameter groups (METAADAMW.md §1): the tokens the modulator reads, and the unit of
// per-group learning rate and weight decay. Torch-free: works on ParamInfo only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nn/param_info.h"

namespace maw::optim {

enum class LayerKind { Embedding, Attention, FeedForward, Linear, Conv, Norm, Recurrent, Other };
const char* to_string(LayerKind kind);

// The kind of layer a tensor belongs to: from the module types first (a Linear inside a
// FeedForward is feed_forward), from the name second ("encoder.ffn.fc1" is feed_forward).
LayerKind infer_kind(const nn::ParamInfo& info);

// The layer index in a tensor's module path: the first component that is a number
// ("layers.3.attn" → 3) or a container word with a number ("layer2.0.conv1" → 2,
// "h.4" → 4); -1 when none ("conv1.weight", an LSTM's "weight_ih_l0").
int64_t layer_index(const std::string& name);

struct ParamGroup {
  std::string name;        // readable: "attention/deep/weight", "encoder.layers.1.ffn.linear1", ...
  std::vector<int> slots;  // the tensors' slots in the ParamStore, in model order
  std::vector<std::string> tensor_names;
  int64_t numel = 0;
};

struct GroupingSpec {
  std::string strategy = "fine_grained";  // per_tensor | per_module | fine_grained | custom
  std::vector<std::pair<std::string, std::string>> rules;  // custom: (regex, group), in order

  // Parses "REGEX=GROUP;REGEX=GROUP" (the CLI form). Throws ConfigError on a bad regex.
  static std::vector<std::pair<std::string, std::string>> parse_rules(const std::string& text);
};

// Every tensor in exactly one group; groups ordered by first appearance; none empty.
// Throws ConfigError for an unknown strategy or an invalid rule.
std::vector<ParamGroup> make_groups(const std::vector<nn::ParamInfo>& params,
                                    const GroupingSpec& spec);

}  // namespace maw::optim
