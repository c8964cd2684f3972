#include "services/summary_json.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "api/errors.h"

namespace maw {
namespace {

using Json = nlohmann::ordered_json;

Json number(double x) {
  return std::isfinite(x) ? Json(x) : Json(nullptr);
}

void write(std::string& out, const Json& j, int indent, int depth) {
  const auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(d), ' ');
  };
  if (j.is_object() || j.is_array()) {
    const bool object = j.is_object();
    if (j.empty()) {
      out += object ? "{}" : "[]";
      return;
    }
    out += object ? '{' : '[';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      if (object) out += Json(it.key()).dump() + ": ";
      write(out, *it, indent, depth + 1);
    }
    newline(depth);
    out += object ? '}' : ']';
  } else if (j.is_number_float()) {
    const double x = j.get<double>();
    if (!std::isfinite(x)) {
      out += "null";
      return;
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%#.17g", x);  // always 17 significant digits
    out += buf;
  } else {
    out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

}  // namespace

std::string json_text(const Json& j, int indent) {
  std::string out;
  write(out, j, indent, 0);
  return out;
}

Json summary_to_json(const RunSummary& s) {
  Json extras = Json::object();
  for (const auto& [name, value] : s.eval_extras) extras[name] = number(value);
  return Json{{"task", s.task},
              {"preset", s.preset},
              {"optimizer", s.optimizer},
              {"seed", s.seed},
              {"steps", s.steps},
              {"final_train_loss", number(s.final_train_loss)},
              {"eval_loss", number(s.eval_loss)},
              {"eval_metric", number(s.eval_metric)},
              {"metric_name", s.metric_name},
              {"metric_higher_is_better", s.metric_higher_is_better},
              {"eval_extras", extras},
              {"naive_metric", number(s.naive_metric)},
              {"naive_name", s.naive_name},
              {"wall_time_s", number(s.wall_time_s)},
              {"mean_step_ms", number(s.mean_step_ms)},
              {"meta_updates", s.meta_updates},
              {"status", name_of(s.status)},
              {"message", s.message},
              {"device", s.device},
              {"threads", s.threads},
              {"num_parameters", s.num_parameters},
              {"num_groups", s.num_groups},
              {"best_step", s.best_step},
              {"best_monitor", number(s.best_monitor)},
              {"val_loss", number(s.val_loss)},
              {"val_metric", number(s.val_metric)}};
}

RunSummary summary_from_json(const Json& j) {
  if (!j.is_object()) throw DataError("a run summary is not a JSON object");
  auto at = [&](const char* k) -> const Json& {
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

Json runs_json(const std::vector<RunSummary>& runs) {
  Json j = Json::object();
  if (!runs.empty()) {
    j["task"] = runs[0].task;
    j["preset"] = runs[0].preset;
    j["seed"] = runs[0].seed;
  }
  Json list = Json::array();
  for (const auto& r : runs) list.push_back(summary_to_json(r));
  j["runs"] = list;
  return j;
}

}  // namespace maw
