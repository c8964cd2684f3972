#include "services/study.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "services/stats.h"

namespace maw {
namespace {

using Json = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool better(double x, double y, bool higher) {
  return higher ? x > y : x < y;
}
bool reaches(double x, double target, bool higher) {
  return higher ? x >= target : x <= target;
}

Json number(double x) {
  return std::isfinite(x) ? Json(x) : Json(nullptr);
}

Json summary(const std::vector<double>& xs) {
  Json j;
  j["mean"] = number(stats::mean(xs));
  j["std"] = number(stats::stddev(xs));
  Json v = Json::array();
  for (double x : xs) v.push_back(number(x));
  j["values"] = v;
  return j;
}

template <class F>
std::vector<double> collect(const OptimizerRuns& o, F f) {
  std::vector<double> out;
  for (const auto& r : o.runs) out.push_back(f(r));
  return out;
}

// Steps and seconds until the first evaluation at least as good as `target`.
Json time_to(const OptimizerRuns& o, double target, bool higher) {
  std::vector<double> steps, secs;
  for (const auto& r : o.runs)
    for (const auto& e : r.evals)
      if (reaches(e.metric, target, higher)) {
        steps.push_back(static_cast<double>(e.step));
        secs.push_back(e.wall_time_s);
        break;
      }
  Json j;
  j["reached"] = steps.size();
  j["of"] = o.runs.size();
  j["steps_mean"] = number(stats::mean(steps));
  j["seconds_mean"] = number(stats::mean(secs));
  return j;
}

Json optimizer_block(const OptimizerRuns& o) {
  Json j;
  j["best"] = summary(collect(o, [](const SeedRun& r) { return r.best_metric(); }));
  j["final"] = summary(collect(o, [](const SeedRun& r) { return r.summary.eval_metric; }));
  j["final_eval_loss"] = summary(collect(o, [](const SeedRun& r) { return r.summary.eval_loss; }));
  j["val"] = summary(collect(o, [](const SeedRun& r) { return r.summary.val_metric; }));
  std::map<std::string, std::vector<double>> extras;
  for (const auto& r : o.runs)
    for (const auto& [k, v] : r.summary.eval_extras) extras[k].push_back(v);
  Json ex = Json::object();
  for (const auto& [k, v] : extras) ex[k] = summary(v);
  j["final_extras"] = ex;
  j["step_ms"] = summary(collect(o, [](const SeedRun& r) { return r.summary.mean_step_ms; }));
  j["total_s"] = summary(collect(o, [](const SeedRun& r) { return r.summary.wall_time_s; }));
  j["meta_updates"] =
      summary(collect(o, [](const SeedRun& r) { return double(r.summary.meta_updates); }));
  Json st = Json::array();
  for (const auto& r : o.runs) st.push_back(name_of(r.summary.status));
  j["status"] = st;
  return j;
}

std::string pm(const Json& s, const char* fmt = "%.4g") {
  auto f = [&](const Json& v) {
    if (v.is_null()) return std::string("n/a");
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, v.get<double>());
    return std::string(buf);
  };
  return f(s["mean"]) + " ± " + f(s["std"]);
}

}  // namespace

double SeedRun::best_metric() const {
  if (evals.empty()) return summary.eval_metric;
  double best = evals[0].metric;
  for (const auto& e : evals)
    if (better(e.metric, best, summary.metric_higher_is_better)) best = e.metric;
  return best;
}

Json compare_study(const OptimizerRuns& a, const OptimizerRuns& b) {
  const auto& first = a.runs.empty() ? b.runs.front().summary : a.runs.front().summary;
  const bool higher = first.metric_higher_is_better;
  Json j;
  j["task"] = first.task;
  j["preset"] = first.preset;
  j["metric"] = first.metric_name;
  j["higher_is_better"] = higher;
  Json seeds = Json::array();
  for (const auto& r : a.runs) seeds.push_back(r.summary.seed);
  j["seeds"] = seeds;
  j["naive"] = {{"name", first.naive_name}, {"metric", number(first.naive_metric)}};
  j["baseline"] = a.optimizer;
  j["candidate"] = b.optimizer;
  j[a.optimizer] = optimizer_block(a);
  j[b.optimizer] = optimizer_block(b);
  const auto best_a = collect(a, [](const SeedRun& r) { return r.best_metric(); });
  const auto best_b = collect(b, [](const SeedRun& r) { return r.best_metric(); });
  const auto fin_a = collect(a, [](const SeedRun& r) { return r.summary.eval_metric; });
  const auto fin_b = collect(b, [](const SeedRun& r) { return r.summary.eval_metric; });
  const size_t n = std::min(best_a.size(), best_b.size());
  auto head = [n](std::vector<double> v) {
    v.resize(n);
    return v;
  };
  // The tests are on the final metric: the model each run ends with after the fixed
  // budget. The best evaluation over the run is picked on the evaluation split itself (an
  // early stop chosen by the test set), so it is only described beside it.
  const auto t_final = stats::paired_t_test(head(fin_a), head(fin_b));
  const auto t_best = stats::paired_t_test(head(best_a), head(best_b));
  j["primary"] = "final";
  j["p_value"] = number(t_final.p_value);
  j["t"] = number(t_final.t);
  j["mean_diff"] = number(t_final.mean_diff);
  j["p_value_best"] = number(t_best.p_value);
  j["mean_diff_best"] = number(t_best.mean_diff);
  const auto w = stats::wilcoxon_signed_rank(head(fin_a), head(fin_b));
  j["wilcoxon"] = {
      {"w_plus", number(w.w_plus)}, {"n", w.n}, {"p_value", number(w.p_value)}, {"exact", w.exact}};
  const auto e = stats::paired_effect(head(fin_a), head(fin_b));
  j["effect"] = {{"mean_diff", number(e.mean_diff)},
                 {"ci95", {number(e.ci_low), number(e.ci_high)}},
                 {"cohen_dz", number(e.cohen_dz)}};
  auto ratio = [&](const char* field) {
    return number(j[b.optimizer][field]["mean"].is_null() || j[a.optimizer][field]["mean"].is_null()
                      ? kNaN
                      : j[b.optimizer][field]["mean"].get<double>() /
                            j[a.optimizer][field]["mean"].get<double>());
  };
  j["time_ratio"] = ratio("total_s");
  j["step_time_ratio"] = ratio("step_ms");
  const double target = stats::median(best_a);
  j["time_to_target"] = {{"target", number(target)},
                         {"definition", "first evaluation reaching " + a.optimizer +
                                            "'s median best " + first.metric_name},
                         {b.optimizer, time_to(b, target, higher)},
                         {a.optimizer, time_to(a, target, higher)}};
  return j;
}

std::string compare_table(const Json& j) {
  std::ostringstream o;
  const std::string a = j["baseline"], b = j["candidate"], metric = j["metric"];
  char buf[512];
  std::snprintf(buf, sizeof buf, "\n%s / %s: %zu seeds · %s (%s is better) · naive %s: %.4g\n",
                j["task"].get<std::string>().c_str(), j["preset"].get<std::string>().c_str(),
                j["seeds"].size(), metric.c_str(),
                j["higher_is_better"].get<bool>() ? "higher" : "lower",
                j["naive"]["name"].get<std::string>().c_str(),
                j["naive"]["metric"].is_null() ? kNaN : j["naive"]["metric"].get<double>());
  o << buf;
  std::snprintf(buf, sizeof buf, "%-12s %22s %22s %18s %16s\n", "optimizer",
                ("final " + metric).c_str(), ("best " + metric).c_str(), "ms/step", "total s");
  o << buf;
  for (const auto& name : {a, b}) {
    const auto& r = j[name];
    std::snprintf(buf, sizeof buf, "%-12s %22s %22s %18s %16s\n", name.c_str(),
                  pm(r["final"]).c_str(), pm(r["best"]).c_str(), pm(r["step_ms"], "%.2f").c_str(),
                  pm(r["total_s"], "%.1f").c_str());
    o << buf;
    for (auto it = r["final_extras"].begin(); it != r["final_extras"].end(); ++it) {
      std::snprintf(buf, sizeof buf, "%-12s   final %s %s\n", "", it.key().c_str(),
                    pm(it.value()).c_str());
      o << buf;
    }
  }
  auto f = [](const Json& v, const char* fmt) {
    if (v.is_null()) return std::string("n/a");
    char b2[32];
    std::snprintf(b2, sizeof b2, fmt, v.get<double>());
    return std::string(b2);
  };
  o << "paired t-test (" << b << " − " << a << ", final " << metric << "): mean diff "
    << f(j["mean_diff"], "%.4g") << ", p = " << f(j["p_value"], "%.3g") << " (best over the run's "
    << "evaluations, chosen on the evaluation split: mean diff " << f(j["mean_diff_best"], "%.4g")
    << ", p = " << f(j["p_value_best"], "%.3g") << ")\n";
  if (j.contains("wilcoxon")) {
    const auto& w = j["wilcoxon"];
    const auto& e = j["effect"];
    o << "Wilcoxon signed-rank: W+ = " << f(w["w_plus"], "%.1f")
      << " of n = " << w["n"].get<int64_t>() << ", p = " << f(w["p_value"], "%.3g")
      << (w["exact"].get<bool>() ? " (exact)" : " (normal approx.)") << "; effect "
      << f(e["mean_diff"], "%.4g") << ", 95% CI [" << f(e["ci95"][0], "%.4g") << ", "
      << f(e["ci95"][1], "%.4g") << "], Cohen's d_z " << f(e["cohen_dz"], "%.2f") << "\n";
  }
  o << "time ratio " << b << "/" << a << ": total " << f(j["time_ratio"], "%.3f") << ", per step "
    << f(j["step_time_ratio"], "%.3f") << "\n";
  const auto& tt = j["time_to_target"];
  for (const auto& name : {b, a}) {
    o << "time to " << a << "'s median best (" << f(tt["target"], "%.4g") << "), " << name << ": "
      << tt[name]["reached"].get<size_t>() << "/" << tt[name]["of"].get<size_t>() << " runs, "
      << f(tt[name]["steps_mean"], "%.0f") << " steps, " << f(tt[name]["seconds_mean"], "%.1f")
      << " s\n";
  }
  return o.str();
}

Json sweep_study(const std::vector<SweepPoint>& points) {
  Json j;
  if (points.empty() || points[0].runs.empty()) return j;
  const auto& first = points[0].runs[0].summary;
  const bool higher = first.metric_higher_is_better;
  j["task"] = first.task;
  j["preset"] = first.preset;
  j["metric"] = first.metric_name;
  j["higher_is_better"] = higher;
  Json seeds = Json::array();
  for (const auto& r : points[0].runs) seeds.push_back(r.summary.seed);
  j["seeds"] = seeds;
  // Settings are chosen on the validation split (the final model's metric there, mean
  // over seeds), never on the evaluation split the results are reported on. Only indexes
  // written before runs had a validation metric fall back to the best evaluation.
  bool by_val = true;
  for (const auto& p : points)
    for (const auto& r : p.runs)
      if (std::isnan(r.summary.val_metric) && r.summary.status != RunStatus::diverged)
        by_val = false;
  const char* select = by_val ? "val" : "best";
  j["selected_by"] = by_val ? "validation split: mean final metric over seeds"
                            : "evaluation split: mean best metric (no validation metric logged)";
  Json results = Json::array();
  std::map<std::string, size_t> best;  // optimizer → index of its best point
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    OptimizerRuns o{p.optimizer, p.runs};
    Json r;
    r["optimizer"] = p.optimizer;
    Json settings = Json::object();
    for (const auto& [k, v] : p.settings) settings[k] = v;
    r["settings"] = settings;
    const auto block = optimizer_block(o);
    r["val"] = block["val"];
    r["best"] = block["best"];
    r["final"] = block["final"];
    r["total_s"] = block["total_s"];
    r["status"] = block["status"];
    results.push_back(r);
    const auto m = r[select]["mean"];
    if (m.is_null()) continue;
    auto it = best.find(p.optimizer);
    if (it == best.end() ||
        better(m.get<double>(), results[it->second][select]["mean"].get<double>(), higher))
      best[p.optimizer] = i;
  }
  j["results"] = results;
  Json b = Json::object();
  for (const auto& [opt, i] : best)
    b[opt] = {{"settings", results[i]["settings"]},
              {"val", results[i]["val"]},
              {"best", results[i]["best"]}};
  j["best"] = b;
  return j;
}

std::string sweep_table(const Json& j) {
  std::ostringstream o;
  if (j.is_null()) return "no sweep results\n";
  const std::string metric = j["metric"];
  o << "\nsweep " << j["task"].get<std::string>() << " / " << j["preset"].get<std::string>() << ": "
    << j["seeds"].size() << " seeds · best " << metric << " ("
    << (j["higher_is_better"].get<bool>() ? "higher" : "lower") << " is better)\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-12s %-36s %22s %22s %12s\n", "optimizer", "settings",
                ("validation " + metric).c_str(), ("best eval " + metric).c_str(), "total s");
  o << buf;
  for (const auto& r : j["results"]) {
    std::string s;
    for (auto it = r["settings"].begin(); it != r["settings"].end(); ++it)
      s += it.key() + "=" + it.value().get<std::string>() + " ";
    std::snprintf(buf, sizeof buf, "%-12s %-36s %22s %22s %12s\n",
                  r["optimizer"].get<std::string>().c_str(), s.c_str(),
                  r.contains("val") ? pm(r["val"]).c_str() : "n/a", pm(r["best"]).c_str(),
                  pm(r["total_s"], "%.1f").c_str());
    o << buf;
  }
  for (auto it = j["best"].begin(); it != j["best"].end(); ++it) {
    std::string s;
    for (auto kv = it.value()["settings"].begin(); kv != it.value()["settings"].end(); ++kv)
      s += kv.key() + "=" + kv.value().get<std::string>() + " ";
    o << "best for " << it.key() << ": " << s << "(validation " << pm(it.value()["val"])
      << "; evaluation " << pm(it.value()["best"]) << ")\n";
  }
  if (j.contains("selected_by"))
    o << "chosen on the " << j["selected_by"].get<std::string>() << "\n";
  return o.str();
}

}  // namespace maw
