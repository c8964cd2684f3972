// ParamInfo: what is known of a model tensor besides its values. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace maw::nn {

// What the grouping strategies (optim/param_groups.h) know of a tensor.
struct ParamInfo {
  std::string name;         // full dotted name
  std::string module_path;  // owning module's dotted path ("" at the root)
  // Module types from the root down to the owner, e.g.
  // {"TransformerClassifier", "TransformerBlock", "FeedForward", "Linear"}.
  std::vector<std::string> module_types;
  std::vector<int64_t> shape;
  int64_t numel = 0;
};

}  // namespace maw::nn
