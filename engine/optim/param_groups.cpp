#include "optim/param_groups.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <regex>

#include "api/errors.h"

namespace maw::optim {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

bool has_token(const std::vector<std::string>& parts, std::initializer_list<const char*> words) {
  for (const auto& p : parts) {
    for (const char* w : words) {
      if (p == w) return true;
    }
  }
  return false;
}

bool contains_any(const std::string& s, std::initializer_list<const char*> words) {
  for (const char* w : words)
    if (s.find(w) != std::string::npos) return true;
  return false;
}

// Kinds that a module type names by itself.
bool kind_of_type(const std::string& type, LayerKind* kind) {
  const std::string t = lower(type);
  if (t == "embedding")
    *kind = LayerKind::Embedding;
  else if (contains_any(t, {"attention"}))
    *kind = LayerKind::Attention;
  else if (t == "feedforward" || t == "mlpblock")
    *kind = LayerKind::FeedForward;
  else if (contains_any(t, {"norm"}))
    *kind = LayerKind::Norm;
  else if (contains_any(t, {"lstm", "gru", "rnn"}))
    *kind = LayerKind::Recurrent;
  else if (contains_any(t, {"conv"}))
    *kind = LayerKind::Conv;
  else if (t == "linear")
    *kind = LayerKind::Linear;
  else
    return false;
  return true;
}

LayerKind kind_from_name(const std::string& name) {
  const auto parts = split(lower(name), '.');
  const std::vector<std::string> modules(parts.begin(), parts.end() - (parts.empty() ? 0 : 1));
  const std::string path = lower(name);
  if (contains_any(path, {"attn", "attention", "q_proj", "k_proj", "v_proj"}))
    return LayerKind::Attention;
  if (contains_any(path, {"ffn", "feed_forward", "feedforward"}) ||
      has_token(modules, {"linear1", "linear2", "fc1", "fc2", "mlp"}))
    return LayerKind::FeedForward;
  if (contains_any(path, {"emb"})) return LayerKind::Embedding;
  if (contains_any(path, {"lstm", "gru", "rnn"})) return LayerKind::Recurrent;
  if (contains_any(path, {"norm"}) ||
      has_token(modules, {"ln", "ln1", "ln2", "ln_f", "bn", "bn1", "bn2", "bn3"}))
    return LayerKind::Norm;
  if (contains_any(path, {"conv"})) return LayerKind::Conv;
  if (contains_any(path, {"linear", "fc", "proj", "head", "classifier"})) return LayerKind::Linear;
  return LayerKind::Other;
}

int64_t trailing_number(const std::string& s) {
  size_t i = s.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
  if (i == s.size() || i == 0) return -1;  // no digits, or all digits (handled elsewhere)
  return std::stoll(s.substr(i));
}

}  // namespace

const char* to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::Embedding: return "embedding";
    case LayerKind::Attention: return "attention";
    case LayerKind::FeedForward: return "feed_forward";
    case LayerKind::Linear: return "linear";
    case LayerKind::Conv: return "conv";
    case LayerKind::Norm: return "norm";
    case LayerKind::Recurrent: return "recurrent";
    case LayerKind::Other: return "other";
  }
  return "other";
}

LayerKind infer_kind(const nn::ParamInfo& info) {
  const auto& types = info.module_types;
  LayerKind owner = LayerKind::Other;
  const bool owner_known = !types.empty() && kind_of_type(types.back(), &owner);
  if (owner_known && owner != LayerKind::Linear) return owner;
  // A Linear (or an unknown module) takes the kind of the nearest ancestor that is an
  // attention or feed-forward block: the projections of an attention, an FFN's linears.
  for (size_t i = types.empty() ? 0 : types.size() - 1; i-- > 0;) {
    LayerKind k;
    if (kind_of_type(types[i], &k) && (k == LayerKind::Attention || k == LayerKind::FeedForward))
      return k;
  }
  const LayerKind by_name = kind_from_name(info.name);
  if (owner_known) {  // a Linear: names may still say it is part of attention or an FFN
    return by_name == LayerKind::Attention || by_name == LayerKind::FeedForward ? by_name
                                                                                : LayerKind::Linear;
  }
  return by_name;
}

int64_t layer_index(const std::string& name) {
  // Module components only (the last component is the tensor's own name).
  const auto parts = split(name, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const auto& p = parts[i];
    if (!p.empty() &&
        std::all_of(p.begin(), p.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; }))
      return std::stoll(p);
    // "layer2", "block3", "h4", "stage1": a container word with its index. Other names
    // ending in digits ("conv1", "fc2", "linear1") name a module, not a depth.
    const int64_t n = trailing_number(p);
    if (n >= 0) {
      const std::string stem = lower(p.substr(0, p.size() - std::to_string(n).size()));
      if (stem == "layer" || stem == "layers" || stem == "block" || stem == "blocks" ||
          stem == "stage" || stem == "h" || stem == "level")
        return n;
    }
  }
  return -1;
}

std::vector<std::pair<std::string, std::string>> GroupingSpec::parse_rules(
    const std::string& text) {
  std::vector<std::pair<std::string, std::string>> rules;
  if (text.empty()) return rules;
  for (const auto& item : split(text, ';')) {
    if (item.empty()) continue;
    const auto eq = item.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw ConfigError("invalid value '" + item +
                        "' for key 'group_rules': allowed REGEX=GROUP;REGEX=GROUP...");
    rules.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return rules;
}

std::vector<ParamGroup> make_groups(const std::vector<nn::ParamInfo>& params,
                                    const GroupingSpec& spec) {
  std::vector<std::string> keys(params.size());
  if (spec.strategy == "per_tensor") {
    for (size_t i = 0; i < params.size(); ++i) keys[i] = params[i].name;
  } else if (spec.strategy == "per_module") {
    for (size_t i = 0; i < params.size(); ++i)
      keys[i] = params[i].module_path.empty() ? "(root)" : params[i].module_path;
  } else if (spec.strategy == "fine_grained") {
    // Depth buckets over the model's indexed layer range; tensors with no index sit
    // before the first indexed tensor (shallow: embeddings), after the last (deep: heads,
    // final norms) or in between (middle).
    std::vector<int64_t> idx(params.size());
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    std::vector<int64_t> distinct;
    size_t first_indexed = params.size(), last_indexed = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      idx[i] = layer_index(params[i].name);
      if (idx[i] < 0) continue;
      lo = std::min(lo, idx[i]);
      hi = std::max(hi, idx[i]);
      if (std::find(distinct.begin(), distinct.end(), idx[i]) == distinct.end())
        distinct.push_back(idx[i]);
      first_indexed = std::min(first_indexed, i);
      last_indexed = std::max(last_indexed, i);
    }
    const bool all_middle = distinct.size() <= 2;
    static const char* kDepth[] = {"shallow", "middle", "deep"};
    for (size_t i = 0; i < params.size(); ++i) {
      int bucket = 1;
      if (!all_middle) {
        if (idx[i] >= 0) {
          bucket = static_cast<int>((idx[i] - lo) * 3 / (hi - lo + 1));
        } else if (i < first_indexed) {
          bucket = 0;
        } else if (i > last_indexed) {
          bucket = 2;
        }
      }
      const bool is_bias = params[i].shape.size() == 1;
      keys[i] = std::string(to_string(infer_kind(params[i]))) + "/" + kDepth[bucket] + "/" +
                (is_bias ? "bias" : "weight");
    }
  } else if (spec.strategy == "custom") {
    std::vector<std::pair<std::regex, std::string>> compiled;
    for (const auto& [pattern, group] : spec.rules) {
      try {
        compiled.emplace_back(std::regex(pattern), group);
      } catch (const std::regex_error& e) {
        throw ConfigError("invalid regex '" + pattern + "' in group_rules: " + e.what());
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      keys[i] = "other";
      for (const auto& [re, group] : compiled) {
        if (std::regex_search(params[i].name, re)) {
          keys[i] = group;
          break;
        }
      }
    }
  } else {
    throw ConfigError(
        "invalid value '" + spec.strategy +
        "' for key 'groups': allowed per_tensor | per_module | fine_grained | custom");
  }

  std::vector<ParamGroup> groups;
  std::map<std::string, size_t> where;
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = where.find(keys[i]);
    if (it == where.end()) {
      it = where.emplace(keys[i], groups.size()).first;
      groups.push_back(ParamGroup{keys[i], {}, {}, 0});
    }
    auto& g = groups[it->second];
    g.slots.push_back(static_cast<int>(i));
    g.tensor_names.push_back(params[i].name);
    g.numel += params[i].numel;
  }
  return groups;
}

}  // namespace maw::optim
