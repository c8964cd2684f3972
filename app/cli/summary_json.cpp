#include "cli/summary_json.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/errors.h"

namespace maw::cli {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string num(double x) {
  if (!std::isfinite(x)) return "null";  // JSON has no NaN or Inf
  char buf[40];
  std::snprintf(buf, sizeof buf, "%#.17g", x);  // always 17 significant digits
  return buf;
}

}  // namespace

std::string summary_json(const RunSummary& s, int indent) {
  const std::string pad(static_cast<size_t>(indent) + 2, ' ');
  std::ostringstream o;
  o << "{\n";
  auto field = [&](const char* k, const std::string& v, bool last = false) {
    o << pad << quote(k) << ": " << v << (last ? "\n" : ",\n");
  };
  field("task", quote(s.task));
  field("preset", quote(s.preset));
  field("optimizer", quote(s.optimizer));
  field("seed", std::to_string(s.seed));
  field("steps", std::to_string(s.steps));
  field("final_train_loss", num(s.final_train_loss));
  field("eval_loss", num(s.eval_loss));
  field("eval_metric", num(s.eval_metric));
  field("metric_name", quote(s.metric_name));
  field("metric_higher_is_better", s.metric_higher_is_better ? "true" : "false");
  {
    std::string extras = "{";
    for (size_t i = 0; i < s.eval_extras.size(); ++i)
      extras +=
          (i ? ", " : "") + quote(s.eval_extras[i].first) + ": " + num(s.eval_extras[i].second);
    field("eval_extras", extras + "}");
  }
  field("naive_metric", num(s.naive_metric));
  field("naive_name", quote(s.naive_name));
  field("wall_time_s", num(s.wall_time_s));
  field("mean_step_ms", num(s.mean_step_ms));
  field("meta_updates", std::to_string(s.meta_updates));
  field("status", quote(name_of(s.status)));
  field("message", quote(s.message));
  field("device", quote(s.device));
  field("threads", std::to_string(s.threads));
  field("num_parameters", std::to_string(s.num_parameters));
  field("num_groups", std::to_string(s.num_groups));
  field("best_step", std::to_string(s.best_step));
  field("best_monitor", num(s.best_monitor));
  field("val_loss", num(s.val_loss));
  field("val_metric", num(s.val_metric), true);
  o << std::string(static_cast<size_t>(indent), ' ') << "}";
  return o.str();
}

RunSummary summary_from_json(const std::string& text) {
  const auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw DataError("a run summary is not a JSON object");
  auto at = [&](const char* k) -> const nlohmann::ordered_json& {
    if (!j.contains(k)) throw DataError(std::string("a run summary lacks '") + k + "'");
    return j.at(k);
  };
  auto str = [&](const char* k) {
    if (!at(k).is_string()) throw DataError(std::string("run summary: '") + k + "' is no string");
    return at(k).get<std::string>();
  };
  auto real = [&](const char* k) {
    const auto& v = at(k);
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();  // written for NaN/Inf
    if (!v.is_number()) throw DataError(std::string("run summary: '") + k + "' is no number");
    return v.get<double>();
  };
  auto integer = [&](const char* k) {
    if (!at(k).is_number_integer())
      throw DataError(std::string("run summary: '") + k + "' is no integer");
    return at(k).get<int64_t>();
  };
  RunSummary s;
  s.task = str("task");
  s.preset = str("preset");
  s.optimizer = str("optimizer");
  if (!at("seed").is_number_unsigned() && !at("seed").is_number_integer())
    throw DataError("run summary: 'seed' is no integer");
  s.seed = at("seed").get<uint64_t>();
  s.steps = integer("steps");
  s.final_train_loss = real("final_train_loss");
  s.eval_loss = real("eval_loss");
  s.eval_metric = real("eval_metric");
  s.metric_name = str("metric_name");
  if (!at("metric_higher_is_better").is_boolean())
    throw DataError("run summary: 'metric_higher_is_better' is no boolean");
  s.metric_higher_is_better = at("metric_higher_is_better").get<bool>();
  if (!at("eval_extras").is_object()) throw DataError("run summary: 'eval_extras' is no object");
  for (const auto& [k, v] : at("eval_extras").items())
    s.eval_extras.emplace_back(
        k, v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN());
  s.naive_metric = real("naive_metric");
  s.naive_name = str("naive_name");
  s.wall_time_s = real("wall_time_s");
  s.mean_step_ms = real("mean_step_ms");
  s.meta_updates = integer("meta_updates");
  const auto status = enum_from<RunStatus>(str("status"));
  if (!status) throw DataError("run summary: 'status' is not " + enum_choices<RunStatus>());
  s.status = *status;
  s.message = str("message");
  s.device = str("device");
  s.threads = integer("threads");
  s.num_parameters = integer("num_parameters");
  s.num_groups = integer("num_groups");
  s.best_step = integer("best_step");
  s.best_monitor = real("best_monitor");
  if (j.contains("val_metric")) {  // studies indexed before the validation split was
    s.val_loss = real("val_loss");
    s.val_metric = real("val_metric");
  }
  return s;
}

std::string compare_json(const std::vector<RunSummary>& runs) {
  std::ostringstream o;
  o << "{\n";
  if (!runs.empty()) {
    o << "  \"task\": " << quote(runs[0].task) << ",\n";
    o << "  \"preset\": " << quote(runs[0].preset) << ",\n";
    o << "  \"seed\": " << runs[0].seed << ",\n";
  }
  o << "  \"runs\": [";
  for (size_t i = 0; i < runs.size(); ++i) {
    o << (i ? ", " : "") << summary_json(runs[i], 2);
  }
  o << "]\n}";
  return o.str();
}

}  // namespace maw::cli
