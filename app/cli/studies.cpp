#include "cli/studies.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "api/errors.h"
#include "api/file_checks.h"
#include "api/run_log.h"
#include "api/session.h"
#include "cli/progress.h"
#include "cli/study_index.h"
#include "services/stats.h"
#include "services/study_runner.h"
#include "services/summary_json.h"

namespace maw::cli {
namespace {

using Json = nlohmann::ordered_json;

StudyRunner g_runner;                    // every run of this process goes through it
std::atomic<bool> g_interrupted{false};  // Ctrl-C: no further runs, nor phases of a study

extern "C" void on_interrupt(int /*sig*/) {
  // StudyRunner::stop only stores to lock-free atomics: safe in a signal handler.
  g_interrupted.store(true);
  g_runner.stop();
}

// The CLI's side of the runner: progress on stderr for each run, and — with a study
// index — runs that a continued study finished before read back, every run indexed.
struct CliHooks {
  CliHooks(const Command& cmd, StudyIndex* index) {
    hooks.overwrite_logs = cmd.overwrite || (index && index->continuing());
    hooks.attach = [this, &cmd](size_t, Session& session) {
      progress = std::make_unique<ProgressObserver>(stderr, isatty(fileno(stderr)) != 0,
                                                    session.config().log_every, cmd.quiet);
      session.add_observer(progress.get());
    };
    hooks.finished = [this, index](size_t, const PlannedRun& r, const std::string& log,
                                   const SeedRun& run) {
      if (exit_code(run.summary) != kExitOk) code = exit_code(run.summary);
      if (index && index->enabled()) index->add(log, run, r.settings);
    };
    if (!index || !index->enabled()) return;
    auto path = [index](const PlannedRun& r) {
      return index->log_path(r.config.optimizer, r.config.seed, r.settings);
    };
    // A read-only index (a data-parallel rank other than 0) names no log for its runs: rank
    // 0 writes them; it still reads back what finished, as rank 0 does.
    if (!index->read_only())
      hooks.log_path = [path](size_t, const PlannedRun& r) { return path(r); };
    hooks.read_back = [index, &cmd, path](size_t, const PlannedRun& r, const std::string& given,
                                          SeedRun* out) {
      const std::string log = given.empty() ? path(r) : given;
      const auto before = index->finished(log, out);
      if (before == StudyIndex::Finished::no) return false;
      if (!cmd.quiet)
        std::fprintf(stderr, "%s · seed %llu: finished before (%s), read back%s\n",
                     r.config.optimizer.c_str(), static_cast<unsigned long long>(r.config.seed),
                     log.c_str(),
                     before == StudyIndex::Finished::from_index
                         ? " from study.json (its log is not on this machine)"
                         : "");
      return true;
    };
  }
  StudyRunner::Hooks hooks;
  std::unique_ptr<ProgressObserver> progress;
  int code = kExitOk;
};

// Why a study exits 3, said even under --quiet: which runs diverged.
void report_diverged(const std::vector<RunSummary>& runs) {
  std::string which;
  size_t n = 0;
  for (const auto& r : runs)
    if (r.status == RunStatus::diverged) {
      ++n;
      if (n <= 8)
        which += (which.empty() ? "" : ", ") + r.optimizer + " seed " + std::to_string(r.seed);
    }
  if (n == 0) return;
  std::fprintf(stderr, "metaadamw: %zu of %zu runs diverged (%s%s)\n", n, runs.size(),
               which.c_str(), n > 8 ? ", …" : "");
}

void print_table(const std::vector<RunSummary>& runs) {
  std::fprintf(stderr, "\n%-12s %8s %14s %12s %12s %9s %9s  %s\n", "optimizer", "steps",
               "final loss", "eval loss", runs.empty() ? "metric" : runs[0].metric_name.c_str(),
               "time s", "ms/step", "status");
  for (const auto& r : runs) {
    std::fprintf(stderr, "%-12s %8lld %14.6g %12.6g %12.6g %9.2f %9.3f  %s\n", r.optimizer.c_str(),
                 static_cast<long long>(r.steps), r.final_train_loss, r.eval_loss, r.eval_metric,
                 r.wall_time_s, r.mean_step_ms, name_of(r.status));
  }
}

// Before the first run, the logs the plan will write (StudyIndex::claim).
void claim(StudyIndex& index, const std::vector<PlannedRun>& plan) {
  if (!index.enabled()) return;
  std::vector<std::string> planned;
  for (const auto& r : plan)
    planned.push_back(index.log_path(r.config.optimizer, r.config.seed, r.settings));
  index.claim(planned);
}

// PATH with "-seedN" before its extension: one exported modulator per seed.
std::string seeded_path(const std::string& path, uint64_t seed) {
  const std::filesystem::path p(path);
  return (p.parent_path() /
          (p.stem().string() + "-seed" + std::to_string(seed) + p.extension().string()))
      .string();
}

}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

bool interrupted() {
  return g_interrupted.load();
}

SeedRun run_one(const RunConfig& config, const Command& cmd, const std::string& log_path,
                bool overwrite) {
  CliHooks cli(cmd, nullptr);
  cli.hooks.overwrite_logs = overwrite;
  cli.hooks.log_path = [&log_path](size_t, const PlannedRun&) { return log_path; };
  auto runs = g_runner.run({PlannedRun{config, {}}}, cli.hooks);
  if (runs.empty()) {  // interrupted before it started: a stopped run of no steps
    SeedRun none;
    none.summary.status = RunStatus::stopped;
    return none;
  }
  return runs.front();
}

int exit_code(const RunSummary& s) {
  return s.status == RunStatus::diverged ? kExitDiverged : kExitOk;
}

// compare: each seed under each optimizer (paired by seed); one run at a time.
int compare_command(const Command& cmd, nlohmann::ordered_json* study_out,
                    std::vector<OptimizerRuns>* runs_out) {
  auto plan = compare_plan(cmd.config, cmd.optimizers, cmd.seeds);
  if (!cmd.config.export_modulator.empty())
    for (auto& r : plan)
      r.config.set("export_modulator", r.config.optimizer == "metaadamw"
                                           ? seeded_path(cmd.config.export_modulator, r.config.seed)
                                           : "");
  StudyIndex index(cmd.log_dir, "compare", cmd.argv, cmd.config.to_json(), cmd.overwrite,
                   cmd.continuing);
  if (cmd.read_only_index) index.set_read_only();
  claim(index, plan);
  CliHooks cli(cmd, &index);
  const auto done = g_runner.run(plan, cli.hooks);
  std::vector<OptimizerRuns> per(cmd.optimizers.size());
  for (size_t i = 0; i < per.size(); ++i) per[i].optimizer = cmd.optimizers[i];
  for (size_t j = 0; j < done.size(); ++j) per[j % per.size()].runs.push_back(done[j]);
  std::vector<RunSummary> all;
  for (const auto& p : per)
    for (const auto& r : p.runs) all.push_back(r.summary);
  if (runs_out) *runs_out = per;
  if (!cmd.quiet) print_table(all);
  report_diverged(all);
  if (per.size() >= 2 && !per[0].runs.empty() && per[1].runs.size() == per[0].runs.size()) {
    const auto study = compare_study(per[0], per[1]);
    if (study_out) *study_out = study;
    if (!cmd.quiet) std::fputs(compare_table(study).c_str(), stderr);
    if (index.enabled() && !g_interrupted.load()) index.finish(study);
    if (cmd.json) {
      auto j = study;
      Json runs = Json::array();
      for (const auto& r : all) runs.push_back(summary_to_json(r));
      j["runs"] = runs;
      std::printf("%s\n", json_text(j).c_str());
    }
  } else if (cmd.json) {
    std::printf("%s\n", json_text(runs_json(all)).c_str());
  }
  return cli.code;
}

// sweep: the cartesian product of the grid, under each optimizer, over the seeds.
int sweep_command(const Command& cmd, nlohmann::ordered_json* study_out) {
  const auto plan = sweep_plan(cmd.config, cmd.optimizers, cmd.grid, cmd.seeds);
  StudyIndex index(cmd.log_dir, "sweep", cmd.argv, cmd.config.to_json(), cmd.overwrite,
                   cmd.continuing);
  claim(index, plan);
  CliHooks cli(cmd, &index);
  const auto done = g_runner.run(plan, cli.hooks);
  // The plan's consecutive runs of one optimizer and grid point are that point's seeds.
  std::vector<SweepPoint> results;
  for (size_t j = 0; j < done.size(); ++j) {
    const auto& r = plan[j];
    if (results.empty() || results.back().optimizer != r.config.optimizer ||
        results.back().settings != r.settings)
      results.push_back(SweepPoint{r.config.optimizer, r.settings, {}});
    results.back().runs.push_back(done[j]);
  }
  std::vector<RunSummary> all;
  for (const auto& sp : results)
    for (const auto& r : sp.runs) all.push_back(r.summary);
  report_diverged(all);
  const auto study = sweep_study(results);
  if (study_out) *study_out = study;
  if (!cmd.quiet) std::fputs(sweep_table(study).c_str(), stderr);
  if (index.enabled() && !g_interrupted.load()) index.finish(study);
  if (cmd.json) std::printf("%s\n", json_text(study).c_str());
  return cli.code;
}

namespace {

// A grid's settings chosen by a sweep (sweep_study's "best"), for one optimizer.
std::vector<std::pair<std::string, std::string>> chosen(const Json& sweep, const std::string& opt) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!sweep.contains("best") || !sweep["best"].contains(opt)) return out;
  for (const auto& [k, v] : sweep["best"][opt]["settings"].items())
    out.emplace_back(k, v.get<std::string>());
  return out;
}

std::string settings_text(const std::vector<std::pair<std::string, std::string>>& s) {
  std::string t;
  for (const auto& [k, v] : s) t += (t.empty() ? "" : " ") + k + "=" + v;
  return t;
}

// The settings chosen at an end of their grid of three or more values: the best setting
// may lie beyond it.
Json grid_edges(const Json& grid, const Json& settings) {
  Json edge = Json::array();
  for (const auto& [key, values] : grid.items()) {
    if (!values.is_array() || values.size() < 3 || !settings.contains(key)) continue;
    const auto& v = settings[key];
    if (v == values.front() || v == values.back()) edge.push_back(key + "=" + v.get<std::string>());
  }
  return edge;
}

// One phase of the protocol: a sweep or compare in DIR/NAME, continued when the protocol
// is and that folder holds a study already.
Command phase(const Command& cmd, const std::string& name, const std::string& folder) {
  Command c = cmd;
  c.name = name;
  c.log_dir = (std::filesystem::path(cmd.log_dir) / folder).string();
  std::error_code ec;
  c.continuing = cmd.continuing && std::filesystem::exists(c.log_dir + "/study.json", ec);
  c.json = false;
  c.argv.insert(c.argv.begin(), "study phase " + folder + ":");
  return c;
}

}  // namespace

int protocol_command(const Command& cmd) {
  namespace fs = std::filesystem;
  const std::string index = (fs::path(cmd.log_dir) / "protocol.json").string();
  std::error_code ec;
  if (fs::exists(index, ec) && !cmd.continuing && !cmd.overwrite)
    throw ConfigError("--log-dir '" + cmd.log_dir +
                      "' already holds a study (protocol.json): pass --continue to finish it, "
                      "--overwrite to replace it, or choose another folder");
  if (cmd.continuing && !fs::exists(index, ec))
    throw ConfigError("--continue: '" + cmd.log_dir + "' holds no protocol.json to continue");
  if (cmd.continuing) {
    if (const auto problem = files::input_problem(index, 64ull << 20); !problem.empty())
      throw ConfigError("--continue: '" + index + "': " + problem);
    std::ifstream in(index);
    const auto before = Json::parse(in, nullptr, false);
    if (!before.is_object() || before.value("schema", "") != "metaadamw-protocol")
      throw ConfigError("--continue: '" + index + "' is not a metaadamw study protocol");
    // More seeds, grid values or variants extend it; other options do not.
    const auto keys = config_differences(before["config"], Json::parse(cmd.config.to_json()));
    if (!keys.empty()) {
      std::string differ;
      for (const auto& k : keys) differ += (differ.empty() ? "" : ", ") + k;
      throw ConfigError("--continue: the study in '" + cmd.log_dir +
                        "' ran under other options (differs in: " + differ +
                        "); continue it with the options it was started with");
    }
  }
  fs::create_directories(cmd.log_dir, ec);
  if (ec) throw DataError("cannot create --log-dir '" + cmd.log_dir + "': " + ec.message());

  Json p;
  p["schema"] = "metaadamw-protocol";
  p["schema_version"] = 1;
  p["command"] = cmd.argv;
  p["config"] = Json::parse(cmd.config.to_json());
  p["task"] = cmd.config.task;
  p["preset"] = cmd.config.preset;
  auto grid_json = [](const auto& grid) {
    Json g = Json::object();
    for (const auto& [k, vs] : grid) g[k] = vs;
    return g;
  };
  p["adamw_grid"] = grid_json(cmd.grid);
  p["metaadamw_grid"] = grid_json(cmd.meta_grid);
  p["tune_seeds"] = cmd.tune_seeds;
  // Evaluation seeds: disjoint from the tuning seeds, so no seed is both chosen on and
  // reported.
  const uint64_t eval_seed = cmd.config.seed + 100;
  Json seeds = Json::array();
  for (int64_t k = 0; k < cmd.seeds; ++k) seeds.push_back(eval_seed + static_cast<uint64_t>(k));
  p["evaluation_seeds"] = seeds;
  p["selection"] =
      "the final model's metric on the validation split (the task's "
      "meta-validation split), mean over the tuning seeds";
  p["complete"] = false;
  write_json_atomically(index, p);

  int code = kExitOk;
  // One tuning phase: `opt` over `grid` at `base`, chosen on the validation split; its
  // choice is recorded in protocol.json before the next phase starts.
  auto tune = [&](const std::string& opt, const char* folder, const RunConfig& base,
                  const std::vector<std::pair<std::string, std::vector<std::string>>>& grid,
                  const char* what) {
    Command t = phase(cmd, "sweep", folder);
    t.config = base;
    t.optimizers = {opt};
    t.grid = grid;
    t.seeds = cmd.tune_seeds;
    Json sweep;
    code = std::max(code, sweep_command(t, &sweep));
    if (interrupted()) return std::vector<std::pair<std::string, std::string>>{};
    auto best = chosen(sweep, opt);
    if (best.empty())
      throw DataError(std::string("no ") + what + " setting trained without diverging: widen it");
    p[opt] = {{"settings", sweep["best"][opt]["settings"]}, {"val", sweep["best"][opt]["val"]}};
    const Json edge = grid_edges(grid_json(grid), p[opt]["settings"]);
    p[opt]["at_edge"] = edge;
    if (!edge.empty())
      std::fprintf(stderr,
                   "metaadamw: study: %s chose %s at the edge of its grid: the best setting may "
                   "lie beyond it (widen the grid with --continue)\n",
                   opt.c_str(), edge.dump().c_str());
    write_json_atomically(index, p);
    return best;
  };
  // (a) AdamW over its grid; (b) MetaAdamW at AdamW's η, λ over its own grid.
  const auto best_a = tune("adamw", "tune-adamw", cmd.config, cmd.grid, "AdamW --grid");
  if (interrupted()) return code;
  RunConfig at_a = cmd.config;
  for (const auto& [k, v] : best_a) at_a.set(k, v);
  const auto best_b = tune("metaadamw", "tune-metaadamw", at_a, cmd.meta_grid, "--meta-grid");
  if (interrupted()) return code;

  // (c) Both at their chosen settings over fresh seeds.
  Command c = phase(cmd, "compare", "compare");
  for (const auto& [k, v] : best_a) c.config.set(k, v);
  for (const auto& [k, v] : best_b) c.config.set(k, v);  // MetaAdamW's keys: AdamW ignores them
  c.config.set("seed", std::to_string(eval_seed));
  // Each MetaAdamW seed's trained modulator, for cross-task transfer (--variant
  // NAME:modulator=…): compare/modulator-seedN.pt.
  c.config.set("export_modulator", (std::filesystem::path(c.log_dir) / "modulator.pt").string());
  c.optimizers = {"adamw", "metaadamw"};
  Json sc;
  std::vector<OptimizerRuns> tuned;
  code = std::max(code, compare_command(c, &sc, &tuned));
  if (interrupted() || sc.is_null()) return code;
  p["compare"] = sc;
  p["complete"] = true;
  write_json_atomically(index, p);

  // (d) The variants, each on the evaluation seeds at the tuned settings plus its own,
  // paired with the tuned runs.
  for (const auto& v : cmd.variants) {
    Command vc = phase(cmd, "compare", "variant-" + v.name);
    vc.config = c.config;
    vc.config.set("export_modulator", "");
    for (const auto& [k, value] : v.settings) vc.config.set(k, value);
    vc.optimizers = v.both ? std::vector<std::string>{"adamw", "metaadamw"}
                           : std::vector<std::string>{"metaadamw"};
    std::vector<OptimizerRuns> runs;
    code = std::max(code, compare_command(vc, nullptr, &runs));
    if (interrupted()) return code;
    auto labelled = [](OptimizerRuns r, const std::string& label) {
      r.optimizer = label;
      return r;
    };
    const std::string tag = " [" + v.name + "]";
    const auto adamw = labelled(tuned[0], "adamw (tuned)");
    Json e;
    Json settings = Json::object();
    for (const auto& [k, value] : v.settings) settings[k] = value;
    e["settings"] = settings;
    e["optimizers"] = vc.optimizers;
    Json comparisons = Json::array();
    if (v.both) {
      comparisons.push_back(
          compare_study(labelled(runs[0], "adamw" + tag), labelled(runs[1], "metaadamw" + tag)));
      comparisons.push_back(compare_study(adamw, labelled(runs[0], "adamw" + tag)));
      comparisons.push_back(compare_study(adamw, labelled(runs[1], "metaadamw" + tag)));
      // The tuned MetaAdamW against AdamW under the change (a schedule: does the learned
      // modulation beat a hand-made one?).
      comparisons.push_back(
          compare_study(labelled(runs[0], "adamw" + tag), labelled(tuned[1], "metaadamw (tuned)")));
    } else {
      comparisons.push_back(compare_study(adamw, labelled(runs[0], "metaadamw" + tag)));
      comparisons.push_back(compare_study(labelled(tuned[1], "metaadamw (tuned)"),
                                          labelled(runs[0], "metaadamw" + tag)));
    }
    if (!cmd.quiet)
      for (const auto& s : comparisons) std::fputs(compare_table(s).c_str(), stderr);
    e["comparisons"] = comparisons;
    p["variants"][v.name] = e;
    write_json_atomically(index, p);
  }
  if (!cmd.quiet)
    std::fprintf(stderr, "\nstudy %s / %s: AdamW tuned to %s; MetaAdamW %s; %lld seeds → %s\n",
                 cmd.config.task.c_str(), cmd.config.preset.c_str(), settings_text(best_a).c_str(),
                 settings_text(best_b).c_str(), static_cast<long long>(cmd.seeds), index.c_str());
  if (cmd.json) std::printf("%s\n", json_text(p).c_str());
  return code == kExitDiverged ? kExitOk : code;  // a diverging grid point is a finding
}

// Which metric a compare block's tests are on ("final"; "best" in studies finished before
// the final metric was the primary one).
std::string primary_of(const Json& compare) {
  return compare.value("primary", std::string("best"));
}

int report_command(const Command& cmd) {
  struct Row {
    std::string dir;
    Json p;
  };
  std::vector<Row> rows;
  for (const auto& dir : cmd.positional) {
    const std::string index = (std::filesystem::path(dir) / "protocol.json").string();
    if (const auto problem = files::input_problem(index, 64ull << 20); !problem.empty())
      throw DataError(
          "report: '" + index + "': " + problem +
          (problem == "no such file" ? " (not a study folder: study --log-dir DIR)" : ""));
    std::ifstream in(index);
    auto p = Json::parse(in, nullptr, false);
    if (!p.is_object() || p.value("schema", "") != "metaadamw-protocol")
      throw DataError("report: '" + index + "' is not a metaadamw study protocol");
    if (!p.value("complete", false) || !p.contains("compare"))
      throw DataError("report: the study in '" + dir +
                      "' has not finished (metaadamw study … --continue finishes it)");
    rows.push_back({dir, std::move(p)});
  }
  std::vector<double> p_t, p_w;
  auto num = [](const Json& v) {
    return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  for (const auto& r : rows) {
    p_t.push_back(num(r.p["compare"]["p_value"]));
    p_w.push_back(num(r.p["compare"]["wilcoxon"]["p_value"]));
  }
  const auto holm_t = stats::holm(p_t), holm_w = stats::holm(p_w);
  Json out;
  out["schema"] = "metaadamw-report";
  out["correction"] = "Holm, over the " + std::to_string(rows.size()) + " studies";
  Json tasks = Json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& c = rows[i].p["compare"];
    Json t;
    t["dir"] = rows[i].dir;
    t["task"] = rows[i].p["task"];
    t["preset"] = rows[i].p["preset"];
    t["metric"] = c["metric"];
    t["higher_is_better"] = c["higher_is_better"];
    t["seeds"] = c["seeds"].size();
    t["adamw_settings"] = rows[i].p["adamw"]["settings"];
    t["metaadamw_settings"] = rows[i].p["metaadamw"]["settings"];
    // The metric the study's tests were on: the final one; a study finished before that
    // (its JSON without "primary") tested the best evaluation, and says so.
    const std::string stat = primary_of(c);
    t["statistic"] = stat;
    t["adamw"] = c["adamw"][stat];
    t["metaadamw"] = c["metaadamw"][stat];
    t["p_t"] = c["p_value"];
    t["p_t_holm"] = std::isnan(holm_t[i]) ? Json(nullptr) : Json(holm_t[i]);
    t["p_wilcoxon"] = c["wilcoxon"]["p_value"];
    t["p_wilcoxon_holm"] = std::isnan(holm_w[i]) ? Json(nullptr) : Json(holm_w[i]);
    t["effect"] = c["effect"];
    t["time_to_target"] = c["time_to_target"];
    t["time_ratio"] = c["time_ratio"];
    // (From the grids: protocols written before at_edge was recorded are judged too.)
    t["at_edge"] = Json::array();
    for (const char* opt : {"adamw", "metaadamw"})
      for (const auto& e : grid_edges(rows[i].p.value(std::string(opt) + "_grid", Json::object()),
                                      rows[i].p[opt].value("settings", Json::object())))
        t["at_edge"].push_back(e);
    if (rows[i].p.contains("variants")) t["variants"] = rows[i].p["variants"];
    tasks.push_back(t);
  }
  out["tasks"] = tasks;
  if (cmd.json) {
    std::printf("%s\n", json_text(out).c_str());
    return kExitOk;
  }
  auto f = [&](const Json& v, const char* fmt) {
    if (!v.is_number()) return std::string("n/a");
    char buf[48];
    std::snprintf(buf, sizeof buf, fmt, v.get<double>());
    return std::string(buf);
  };
  auto pm = [&](const Json& s) { return f(s["mean"], "%.4g") + " ± " + f(s["std"], "%.2g"); };
  auto settings = [](const Json& s) {
    std::string t;
    for (const auto& [k, v] : s.items())
      t += (t.empty() ? "" : ", ") + k + "=" + v.get<std::string>();
    return t;
  };
  std::printf(
      "| task | metric | seeds | AdamW (tuned) | MetaAdamW | p t-test (Holm) | "
      "p Wilcoxon (Holm) | effect [95%% CI] | to target A / M (reached, steps, s) | "
      "time M/A |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  // Time to AdamW's median best: runs that reached it, mean steps and seconds of those.
  auto to_target = [&](const Json& r) {
    if (!r.is_object()) return std::string("n/a");
    return f(r["reached"], "%.0f") + "/" + f(r["of"], "%.0f") + ", " + f(r["steps_mean"], "%.0f") +
           ", " + f(r["seconds_mean"], "%.0f") + " s";
  };
  for (const auto& t : tasks) {
    const auto& tt = t["time_to_target"];
    std::printf(
        "| %s | %s %s (%s) | %zu | %s | %s | %s (%s) | %s (%s) | %s [%s, %s] | %s / %s | %s |\n",
        t["task"].get<std::string>().c_str(), t["statistic"].get<std::string>().c_str(),
        t["metric"].get<std::string>().c_str(), t["higher_is_better"].get<bool>() ? "↑" : "↓",
        t["seeds"].get<size_t>(), pm(t["adamw"]).c_str(), pm(t["metaadamw"]).c_str(),
        f(t["p_t"], "%.3g").c_str(), f(t["p_t_holm"], "%.3g").c_str(),
        f(t["p_wilcoxon"], "%.3g").c_str(), f(t["p_wilcoxon_holm"], "%.3g").c_str(),
        f(t["effect"]["mean_diff"], "%.3g").c_str(), f(t["effect"]["ci95"][0], "%.3g").c_str(),
        f(t["effect"]["ci95"][1], "%.3g").c_str(), to_target(tt["adamw"]).c_str(),
        to_target(tt["metaadamw"]).c_str(), f(t["time_ratio"], "%.2f").c_str());
  }
  std::printf(
      "\n\"final\": the evaluation metric of the model each run ends with (the tests are on it); "
      "\"best\": the best evaluation over the run, chosen on the evaluation split itself "
      "(studies finished before the final metric was the tested one).\n");
  std::printf("\nTuned settings (validation split):\n");
  for (const auto& t : tasks) {
    std::string edge;
    for (const auto& e : t["at_edge"]) edge += (edge.empty() ? "" : ", ") + e.get<std::string>();
    std::printf("- %s: AdamW %s; MetaAdamW %s%s\n", t["task"].get<std::string>().c_str(),
                settings(t["adamw_settings"]).c_str(), settings(t["metaadamw_settings"]).c_str(),
                edge.empty() ? "" : (" — at the edge of the grid: " + edge).c_str());
  }
  bool header = false;
  for (const auto& t : tasks) {
    if (!t.contains("variants")) continue;
    if (!header) {
      std::printf(
          "\nVariants (the evaluation seeds, the tuned settings plus the variant's; paired "
          "by seed, p not corrected):\n\n"
          "| task | variant | baseline → candidate | baseline | candidate | difference [95%% CI] "
          "| p t-test | p Wilcoxon | time ratio |\n|---|---|---|---|---|---|---|---|---|\n");
      header = true;
    }
    for (const auto& [name, v] : t["variants"].items()) {
      for (const auto& c : v["comparisons"]) {
        const auto a = c["baseline"].get<std::string>(), b = c["candidate"].get<std::string>();
        std::printf(
            "| %s | %s (%s) | %s → %s | %s | %s | %s [%s, %s] | %s | %s | %s |\n",
            t["task"].get<std::string>().c_str(), name.c_str(), settings(v["settings"]).c_str(),
            a.c_str(), b.c_str(), pm(c[a][primary_of(c)]).c_str(), pm(c[b][primary_of(c)]).c_str(),
            f(c["effect"]["mean_diff"], "%.3g").c_str(), f(c["effect"]["ci95"][0], "%.3g").c_str(),
            f(c["effect"]["ci95"][1], "%.3g").c_str(), f(c["p_value"], "%.3g").c_str(),
            f(c["wilcoxon"]["p_value"], "%.3g").c_str(), f(c["time_ratio"], "%.2f").c_str());
      }
    }
  }
  return kExitOk;
}

}  // namespace maw::cli
