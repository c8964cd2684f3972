// RunConfig's key table (api/ only): one entry per key — how its text is read into the
// config, checked and written back — and the lookups RunConfig's methods share.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/run_config.h"

namespace maw::config {

using Json = nlohmann::ordered_json;

// One schema entry: how to read a key's text into the config and write it back.
struct Entry {
  RunConfig::KeyInfo info;
  std::function<void(RunConfig&, const std::string&)> set;
  std::function<Json(const RunConfig&)> get;
};

// Every key, in the order `metaadamw keys` lists them.
const std::vector<Entry>& schema();
// The key's entry, or nullptr.
const Entry* find(const std::string& key);
// ConfigError "unknown key …", with the nearest key as a hint and the valid ones.
[[noreturn]] void unknown_key(const std::string& key);
// A JSON value as the text `set` reads (lists as comma-separated text where `list_ok`).
std::string json_scalar_text(const std::string& key, const Json& v, bool list_ok);

}  // namespace maw::config
