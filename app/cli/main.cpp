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
#include "api/session.h"
#include "cli/args.h"
#include "cli/progress.h"
#include "cli/summary_json.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDiverged = 3;

std::atomic<maw::Session*> g_session{nullptr};

extern "C" void on_interrupt(int /*sig*/) {
  // Session::stop only stores to a lock-free atomic: safe in a signal handler.
  if (maw::Session* s = g_session.load()) s->stop();
}

maw::RunSummary run_one(const maw::RunConfig& config, const maw::cli::Command& cmd) {
  maw::Session session(config);
  maw::cli::ProgressObserver progress(stderr, isatty(fileno(stderr)) != 0,
                                      session.config().log_every, cmd.quiet);
  session.add_observer(&progress);
  g_session.store(&session);
  auto summary = session.run();
  g_session.store(nullptr);
  return summary;
}

int exit_code(const maw::RunSummary& s) {
  return s.status == "diverged" ? kExitDiverged : kExitOk;
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

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  try {
    if (cmd.name == "train") {
      const auto s = run_one(cmd.config, cmd);
      if (cmd.json) std::printf("%s\n", maw::cli::summary_json(s).c_str());
      if (s.status == "diverged")
        std::fprintf(stderr, "metaadamw: training diverged: %s\n", s.message.c_str());
      return exit_code(s);
    }
    // compare: the same configuration and seed under each optimizer, one after another.
    std::vector<maw::RunSummary> runs;
    int code = kExitOk;
    for (const auto& name : cmd.optimizers) {
      maw::RunConfig c = cmd.config;
      c.set("optimizer", name);
      runs.push_back(run_one(c, cmd));
      if (exit_code(runs.back()) != kExitOk) code = exit_code(runs.back());
      if (runs.back().status == "stopped") break;
    }
    if (!cmd.quiet) print_table(runs);
    if (cmd.json) std::printf("%s\n", maw::cli::compare_json(runs).c_str());
    return code;
  } catch (const maw::ConfigError& e) {
    std::fprintf(stderr, "metaadamw: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metaadamw: error: %s\n", e.what());
    return kExitError;
  }
}
