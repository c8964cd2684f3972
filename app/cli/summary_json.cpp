#include "cli/summary_json.h"

#include <cmath>
#include <cstdio>
#include <sstream>

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
  field("status", quote(s.status));
  field("message", quote(s.message));
  field("device", quote(s.device));
  field("threads", std::to_string(s.threads));
  field("num_parameters", std::to_string(s.num_parameters));
  field("num_groups", std::to_string(s.num_groups));
  field("best_step", std::to_string(s.best_step));
  field("best_monitor", num(s.best_monitor), true);
  o << std::string(static_cast<size_t>(indent), ' ') << "}";
  return o.str();
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
