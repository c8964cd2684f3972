#include "api/run_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/config_keys.h"
#include "api/errors.h"
#include "api/file_checks.h"
#include "api/presets.h"

namespace maw {
namespace {

using config::Entry;
using config::find;
using config::json_scalar_text;
using config::schema;
using config::unknown_key;
using Json = config::Json;

void apply_object(RunConfig& c, const Json& obj, const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.value().is_object() && !find(key)) {
      apply_object(c, it.value(), key);
    } else {
      const Entry* e = find(key);
      c.set(key, json_scalar_text(key, it.value(), e && e->info.type == "list"));
    }
  }
}

}  // namespace

void RunConfig::set(const std::string& key, const std::string& value) {
  const Entry* e = find(key);
  if (!e) unknown_key(key);
  e->set(*this, value);
  explicit_keys.insert(key);
}

std::string RunConfig::get(const std::string& key) const {
  const Entry* e = find(key);
  if (!e) unknown_key(key);
  const Json v = e->get(*this);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

void RunConfig::apply_json_text(const std::string& json_text, const std::string& origin) {
  // Keys nest a few levels ("synthetic": {"kind": …}); deeper input is refused while it is
  // parsed, before anything recurses over it.
  constexpr int kMaxDepth = 32;
  // A key given twice in one object is refused (JSON parsers disagree on which one wins).
  std::vector<std::set<std::string>> open_objects;
  const Json::parser_callback_t bounded = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxDepth)
      throw ConfigError(origin + ": JSON nested deeper than " + std::to_string(kMaxDepth) +
                        " levels; a config is an object of key: value");
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty() &&
               !open_objects.back().insert(parsed.get<std::string>()).second) {
      throw ConfigError(origin + ": key '" + parsed.get<std::string>() +
                        "' appears twice in one object; give each key once");
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(json_text, bounded);
  } catch (const Json::out_of_range& err) {  // e.g. 1e999: no double holds it
    throw ConfigError(origin + ": a number out of range (" + err.what() + ")");
  } catch (const Json::exception& err) {
    throw ConfigError(origin + ": not valid JSON: " + err.what());
  }
  if (!j.is_object()) throw ConfigError(origin + ": expected a JSON object of key: value");
  try {
    apply_object(*this, j, "");
  } catch (const ConfigError& err) {
    throw ConfigError(origin + ": " + err.what());
  }
}

void RunConfig::apply_json_file(const std::string& path) {
  // Checked before opening: a FIFO would block the open, a device (/dev/zero) never ends.
  const std::string problem = files::input_problem(path, /*max_bytes=*/16u << 20);
  if (!problem.empty())
    throw ConfigError("cannot read config file '" + path + "': " + problem +
                      (problem.rfind("larger", 0) == 0 ? "; a config is a small JSON object"
                                                       : "; give a JSON file"));
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  apply_json_text(buf.str(), path);
}

void RunConfig::resolve_preset() {
  const std::string p = preset;
  const auto& rows = task_presets(task);
  // A size key at its default — 0, -1 or "", documented as "the preset's" — means that
  // even when given explicitly (as a whole config written by to_json() gives every key).
  // eval_every 0 means "once per epoch", and steps = epochs = 0 "the preset's length".
  const RunConfig defaults;
  auto given = [&](const std::string& key) {
    if (!explicit_keys.count(key)) return false;
    if (key == "eval_every") return true;
    return get(key) != defaults.get(key);
  };
  const bool length_given = given("steps") || given("epochs");
  for (const auto& row : rows) {
    const std::string key = row.key;
    if (given(key)) continue;
    // The run's length is the user's when they gave steps or epochs.
    if ((key == "steps" || key == "epochs") && length_given) continue;
    if ((key == "steps" || key == "epochs" || key == "eval_every") && p == "medium") continue;
    const char* v = p == "tiny" ? row.tiny : p == "small" || p == "medium" ? row.small : row.paper;
    if (*v) find(row.key)->set(*this, v);
  }
  if (p == "medium") {
    // Long enough to meta-learn — ≥ 100 meta-updates at K = 10 — and short enough that
    // the evidence protocol (22 runs per task) fits about four hours for five tasks on 2
    // cores at the small models' 40–105 ms per step.
    if (!length_given) {
      find("steps")->set(*this, "1000");
      find("epochs")->set(*this, "0");
    }
    if (!explicit_keys.count("eval_every")) find("eval_every")->set(*this, "100");
  }
  {
    // The design decides the meta-optimizer, its step and λ's source, unless the user did.
    RunConfig d;
    d.meta.design_defaults(meta.modulator_design());
    for (const char* key : {"meta_optimizer", "meta_lr", "learn_lambdas"})
      if (!explicit_keys.count(key)) find(key)->set(*this, d.get(key));
  }
  const std::string best_of = meta_preset != "auto" ? meta_preset
                              : task == "synthetic" ? "none"
                                                    : task;
  if (best_of != "none") {
    // The paper's best settings fill the MetaAdamW keys the user left open.
    const RunConfig best = [&] {
      RunConfig b;
      b.meta = optim::paper_best_settings(best_of);
      return b;
    }();
    for (const char* key : {"meta_update_freq", "attn_layers", "attn_hidden_dim", "attn_heads",
                            "feature_dim", "features", "use_feature_gating", "huw_priorities"}) {
      if (explicit_keys.count(key)) continue;
      find(key)->set(*this, best.get(key));
    }
  }
}

std::string RunConfig::to_json() const {
  Json j = Json::object();
  for (const auto& e : schema()) j[e.info.key] = e.get(*this);
  return j.dump(2);
}

const std::vector<RunConfig::KeyInfo>& RunConfig::keys() {
  static const std::vector<KeyInfo> infos = [] {
    std::vector<KeyInfo> out;
    for (const auto& e : schema()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

}  // namespace maw
