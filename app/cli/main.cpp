// metaadamw: the headless front end. Parse, wire observers, run, report.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "api/dist.h"
#include "api/errors.h"
#include "api/session.h"
#include "cli/args.h"
#include "cli/log_commands.h"
#include "cli/studies.h"
#include "data/datasets.h"
#include "services/summary_json.h"

namespace {

using maw::cli::kExitError;
using maw::cli::kExitOk;
using maw::cli::kExitUsage;

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
    std::printf("data-parallel: %s\n", maw::distributed_available()
                                           ? "c10d Gloo"
                                           : "not available (a LibTorch without c10d Gloo, or no "
                                             "Gloo headers: libgloo-dev)");
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
  if (cmd.name == "report") {
    try {
      return maw::cli::report_command(cmd);
    } catch (const maw::DataError& e) {
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      return kExitError;
    }
  }
  if (cmd.name == "landscape" || cmd.name == "interpolate") {
    try {
      return maw::cli::probe_command(cmd, stdout);
    } catch (const maw::ConfigError& e) {
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      return kExitUsage;
    } catch (const std::exception& e) {  // DataError, or LibTorch's own
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      return kExitError;
    }
  }
  if (cmd.name == "inspect" || cmd.name == "export" || cmd.name == "trajectory") {
    try {
      if (cmd.name == "trajectory") {
        maw::cli::trajectory_pca(cmd.positional, cmd.json, stdout);
      } else if (cmd.name == "inspect") {
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

  if (cmd.name == "train" || cmd.name == "compare") {
    try {
      if (cmd.nproc > 1) {  // the launcher: N workers of this command line, without --nproc
        std::vector<std::string> worker = {argv[0]};
        for (size_t k = 0; k < args.size(); ++k)
          if (k != cmd.nproc_at && k != cmd.nproc_at + 1) worker.push_back(args[k]);
        return maw::launch_local(cmd.nproc, worker, [](const std::string& line) {
          std::fprintf(stderr, "metaadamw: %s\n", line.c_str());
        });
      }
      const maw::DistEnv env = maw::dist_env_from_environment();
      if (env.active()) {
        maw::set_dist_env(env);
        if (env.rank != 0) {  // rank 0 logs, prints and writes files; the others train
          cmd.log.clear();
          // Continuing a study, every rank must skip the runs that finished: the others
          // read the study's index and logs (as rank 0 does before it writes anything).
          if (cmd.continuing)
            cmd.read_only_index = true;
          else
            cmd.log_dir.clear();
          cmd.json = false;
          cmd.quiet = true;
          cmd.config.export_modulator.clear();
          cmd.config.checkpoint.clear();
        }
      }
    } catch (const maw::ConfigError& e) {
      std::fprintf(stderr, "metaadamw: %s\n", e.what());
      return kExitUsage;
    }
  }

  maw::cli::install_interrupt_handlers();
  try {
    if (cmd.name == "train") {
      const auto s = maw::cli::run_one(cmd.config, cmd, cmd.log, cmd.overwrite).summary;
      if (cmd.json) std::printf("%s\n", maw::json_text(maw::summary_to_json(s)).c_str());
      if (s.status == maw::RunStatus::diverged)
        std::fprintf(stderr, "metaadamw: training diverged: %s\n", s.message.c_str());
      return maw::cli::exit_code(s);
    }
    if (cmd.name == "sweep") return maw::cli::sweep_command(cmd);
    if (cmd.name == "study") return maw::cli::protocol_command(cmd);
    return maw::cli::compare_command(cmd);
  } catch (const maw::ConfigError& e) {
    std::fprintf(stderr, "metaadamw: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metaadamw: error: %s\n", e.what());
    return kExitError;
  }
}
