// metaadamw: the headless front end. Parse, wire observers, run, report.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "api/datasets.h"
#include "api/errors.h"
#include "api/run_log.h"
#include "api/session.h"
#include "api/study.h"
#include "cli/args.h"
#include "cli/log_commands.h"
#include "cli/progress.h"
#include "cli/summary_json.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDiverged = 3;

std::atomic<maw::Session*> g_session{nullptr};
std::atomic<bool> g_interrupted{false};  // Ctrl-C: no further runs of a study

extern "C" void on_interrupt(int /*sig*/) {
  // Session::stop only stores to a lock-free atomic: safe in a signal handler.
  g_interrupted.store(true);
  if (maw::Session* s = g_session.load()) s->stop();
}

maw::SeedRun run_one(const maw::RunConfig& config, const maw::cli::Command& cmd,
                     const std::string& log_path, bool overwrite) {
  maw::Session session(config);
  maw::cli::ProgressObserver progress(stderr, isatty(fileno(stderr)) != 0,
                                      session.config().log_every, cmd.quiet);
  maw::EvalCollector evals;
  session.add_observer(&progress);
  session.add_observer(&evals);
  std::unique_ptr<maw::RunObserver> log;
  if (!log_path.empty()) {
    log = maw::make_run_log_writer(log_path, session.config(), overwrite);
    session.add_observer(log.get());
  }
  g_session.store(&session);
  if (g_interrupted.load()) session.stop();
  auto summary = session.run();
  g_session.store(nullptr);
  return {summary, evals.evals};
}

// One run of a study: read back when a continued study finished it before, else run
// (replacing a log the interrupted study left half-written), then indexed.
maw::SeedRun study_run(const maw::RunConfig& config, const maw::cli::Command& cmd,
                       maw::cli::StudyIndex& index,
                       const std::vector<std::pair<std::string, std::string>>& settings) {
  const std::string log =
      index.enabled() ? index.log_path(config.optimizer, config.seed, settings) : "";
  maw::SeedRun run;
  if (index.enabled() && index.finished(log, &run)) {
    if (!cmd.quiet)
      std::fprintf(stderr, "%s · seed %llu: finished before (%s), read back\n",
                   config.optimizer.c_str(), static_cast<unsigned long long>(config.seed),
                   log.c_str());
  } else {
    run = run_one(config, cmd, log, cmd.overwrite || index.continuing());
  }
  if (index.enabled()) index.add(log, run.summary, settings);
  return run;
}

int exit_code(const maw::RunSummary& s) {
  return s.status == "diverged" ? kExitDiverged : kExitOk;
}

// Why a study exits 3, said even under --quiet: which runs diverged.
void report_diverged(const std::vector<maw::RunSummary>& runs) {
  std::string which;
  size_t n = 0;
  for (const auto& r : runs)
    if (r.status == "diverged") {
      ++n;
      if (n <= 8)
        which += (which.empty() ? "" : ", ") + r.optimizer + " seed " + std::to_string(r.seed);
    }
  if (n == 0) return;
  std::fprintf(stderr, "metaadamw: %zu of %zu runs diverged (%s%s)\n", n, runs.size(),
               which.c_str(), n > 8 ? ", …" : "");
}

int data_command(const maw::cli::Command& cmd) {
  const std::string dir = maw::resolve_data_dir(cmd.data_dir);
  if (cmd.positional[0] == "list") {
    std::printf("data dir: %s\n\n%-16s %-12s %-46s %-8s %10s  %s\n", dir.c_str(), "dataset", "task",
                "source", "present", "size", "path");
    for (const auto& d : maw::list_datasets(dir)) {
      std::string src = d.registry + ":";
      for (const auto& p : d.packages) src += " " + p;
      std::printf("%-16s %-12s %-46s %-8s %8.1f MB  %s\n", d.name.c_str(), d.task.c_str(),
                  src.c_str(), d.present ? "yes" : "no", static_cast<double>(d.size_bytes) / 1e6,
                  d.path.c_str());
    }
    return kExitOk;
  }
  std::vector<std::string> names(cmd.positional.begin() + 1, cmd.positional.end());
  if (names.empty() || (names.size() == 1 && names[0] == "all")) {
    names.clear();
    for (const auto& d : maw::list_datasets(dir)) names.push_back(d.name);
  }
  for (const auto& n : names) maw::find_dataset(n, dir);  // unknown names: exit 2 first
  int code = kExitOk;
  for (const auto& n : names) {
    try {
      maw::fetch_dataset(n, dir, std::cerr);
    } catch (const maw::DataError& e) {
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      code = kExitError;
    }
  }
  return code;
}

void print_table(const std::vector<maw::RunSummary>& runs);

// compare: each seed under each optimizer (paired by seed); one run at a time.
int compare_command(const maw::cli::Command& cmd) {
  std::vector<maw::OptimizerRuns> per(cmd.optimizers.size());
  for (size_t i = 0; i < per.size(); ++i) per[i].optimizer = cmd.optimizers[i];
  maw::cli::StudyIndex index(cmd.log_dir, "compare", cmd.argv, cmd.config.to_json(), cmd.overwrite,
                             cmd.continuing);
  if (index.enabled()) {
    std::vector<std::string> planned;
    for (int64_t k = 0; k < cmd.seeds; ++k)
      for (const auto& o : cmd.optimizers)
        planned.push_back(index.log_path(o, cmd.config.seed + static_cast<uint64_t>(k), {}));
    index.claim(planned);
  }
  int code = kExitOk;
  for (int64_t k = 0; k < cmd.seeds && !g_interrupted.load(); ++k) {
    for (size_t i = 0; i < per.size() && !g_interrupted.load(); ++i) {
      maw::RunConfig c = cmd.config;
      c.set("optimizer", per[i].optimizer);
      c.set("seed", std::to_string(cmd.config.seed + static_cast<uint64_t>(k)));
      per[i].runs.push_back(study_run(c, cmd, index, {}));
      if (exit_code(per[i].runs.back().summary) != kExitOk)
        code = exit_code(per[i].runs.back().summary);
    }
  }
  std::vector<maw::RunSummary> all;
  for (const auto& p : per)
    for (const auto& r : p.runs) all.push_back(r.summary);
  if (!cmd.quiet) print_table(all);
  report_diverged(all);
  if (per.size() >= 2 && !per[0].runs.empty() && per[1].runs.size() == per[0].runs.size()) {
    const auto study = maw::compare_study(per[0], per[1]);
    if (!cmd.quiet) std::fputs(maw::compare_table(study).c_str(), stderr);
    if (index.enabled() && !g_interrupted.load()) index.finish(study.dump());
    if (cmd.json) {
      auto j = study;
      nlohmann::ordered_json runs = nlohmann::ordered_json::array();
      for (const auto& r : all)
        runs.push_back(nlohmann::ordered_json::parse(maw::cli::summary_json(r)));
      j["runs"] = runs;
      std::printf("%s\n", j.dump(2).c_str());
    }
  } else if (cmd.json) {
    std::printf("%s\n", maw::cli::compare_json(all).c_str());
  }
  return code;
}

// sweep: the cartesian product of the grid, under each optimizer, over the seeds.
int sweep_command(const maw::cli::Command& cmd) {
  std::vector<std::vector<std::pair<std::string, std::string>>> points = {{}};
  for (const auto& [key, values] : cmd.grid) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& p : points)
      for (const auto& v : values) {
        auto q = p;
        q.emplace_back(key, v);
        next.push_back(q);
      }
    points = next;
  }
  std::vector<maw::SweepPoint> results;
  maw::cli::StudyIndex index(cmd.log_dir, "sweep", cmd.argv, cmd.config.to_json(), cmd.overwrite,
                             cmd.continuing);
  if (index.enabled()) {
    std::vector<std::string> planned;
    for (const auto& opt : cmd.optimizers)
      for (const auto& settings : points)
        for (int64_t k = 0; k < cmd.seeds; ++k)
          planned.push_back(
              index.log_path(opt, cmd.config.seed + static_cast<uint64_t>(k), settings));
    index.claim(planned);
  }
  int code = kExitOk;
  for (const auto& opt : cmd.optimizers) {
    for (const auto& settings : points) {
      if (g_interrupted.load()) break;
      maw::SweepPoint sp{opt, settings, {}};
      for (int64_t k = 0; k < cmd.seeds && !g_interrupted.load(); ++k) {
        maw::RunConfig c = cmd.config;
        for (const auto& [key, v] : settings) c.set(key, v);
        c.set("optimizer", opt);
        c.set("seed", std::to_string(cmd.config.seed + static_cast<uint64_t>(k)));
        sp.runs.push_back(study_run(c, cmd, index, settings));
        if (exit_code(sp.runs.back().summary) != kExitOk) code = exit_code(sp.runs.back().summary);
      }
      if (!sp.runs.empty()) results.push_back(std::move(sp));
    }
  }
  std::vector<maw::RunSummary> all;
  for (const auto& sp : results)
    for (const auto& r : sp.runs) all.push_back(r.summary);
  report_diverged(all);
  const auto study = maw::sweep_study(results);
  if (!cmd.quiet) std::fputs(maw::sweep_table(study).c_str(), stderr);
  if (index.enabled() && !g_interrupted.load()) index.finish(study.dump());
  if (cmd.json) std::printf("%s\n", study.dump(2).c_str());
  return code;
}

void print_table(const std::vector<maw::RunSummary>& runs) {
  std::fprintf(stderr, "\n%-12s %8s %14s %12s %12s %9s %9s  %s\n", "optimizer", "steps",
               "final loss", "eval loss", runs.empty() ? "metric" : runs[0].metric_name.c_str(),
               "time s", "ms/step", "status");
  for (const auto& r : runs) {
    std::fprintf(stderr, "%-12s %8lld %14.6g %12.6g %12.6g %9.2f %9.3f  %s\n", r.optimizer.c_str(),
                 static_cast<long long>(r.steps), r.final_train_loss, r.eval_loss, r.eval_metric,
                 r.wall_time_s, r.mean_step_ms, r.status.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  maw::cli::Command cmd;
  try {
    cmd = maw::cli::parse(args);
  } catch (const maw::ConfigError& e) {
    std::fprintf(stderr, "metaadamw: %s\n", e.what());
    return kExitUsage;
  }
  if (cmd.name == "help" || cmd.help) {
    std::fputs(maw::cli::usage().c_str(), stdout);
    return kExitOk;
  }
  if (cmd.name == "version") {
    std::printf("metaadamw %s (LibTorch %s, CUDA %s)\n", maw::engine_version(),
                maw::torch_version().c_str(),
                maw::cuda_available() ? "available" : "not available");
    std::printf("CPU kernels: %s\n", maw::cpu_kernels().c_str());
    return kExitOk;
  }
  if (cmd.name == "data") {
    try {
      return data_command(cmd);
    } catch (const maw::ConfigError& e) {
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      return kExitUsage;
    }
  }
  if (cmd.name == "keys") {
    std::fputs(maw::cli::keys_help().c_str(), stdout);
    return kExitOk;
  }
  if (cmd.name == "inspect" || cmd.name == "export") {
    try {
      if (cmd.name == "inspect") {
        maw::cli::inspect_log(cmd.positional[0], cmd.json, stdout);
      } else {
        for (const auto& [file, rows] : maw::cli::export_csv(cmd.positional[0], cmd.csv_dir))
          std::fprintf(stderr, "%-48s %10llu rows\n", file.c_str(),
                       static_cast<unsigned long long>(rows));
      }
      return kExitOk;
    } catch (const maw::DataError& e) {
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      return kExitError;
    }
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  try {
    if (cmd.name == "train") {
      const auto s = run_one(cmd.config, cmd, cmd.log, cmd.overwrite).summary;
      if (cmd.json) std::printf("%s\n", maw::cli::summary_json(s).c_str());
      if (s.status == "diverged")
        std::fprintf(stderr, "metaadamw: training diverged: %s\n", s.message.c_str());
      return exit_code(s);
    }
    if (cmd.name == "sweep") return sweep_command(cmd);
    return compare_command(cmd);
  } catch (const maw::ConfigError& e) {
    std::fprintf(stderr, "metaadamw: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metaadamw: error: %s\n", e.what());
    return kExitError;
  }
}
