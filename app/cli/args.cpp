#include "cli/args.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "api/errors.h"

namespace maw::cli {
namespace {

// Flags that are shorthands for --set KEY=VALUE.
const std::map<std::string, std::string>& flag_keys() {
  static const std::map<std::string, std::string> m = {
      {"--task", "task"},
      {"--preset", "preset"},
      {"--optimizer", "optimizer"},
      {"--seed", "seed"},
      {"--steps", "steps"},
      {"--epochs", "epochs"},
      {"--threads", "threads"},
      {"--device", "device"},
      {"--lr", "lr"},
      {"--batch-size", "batch_size"},
      {"--groups", "groups"},
      {"--modulator", "modulator"},
      {"--resume", "resume"},
  };
  return m;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

long long count_option(const std::string& option, const std::string& v, long long lo,
                       long long hi) {
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo || n > hi)
    throw ConfigError(option + " expects a count from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + ", got '" + v + "'");
  return n;
}

double number_option(const std::string& option, const std::string& v) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(x))
    throw ConfigError(option + " expects a number, got '" + v + "'");
  return x;
}

// landscape FILE [--grid N] [--center X,Y] [--range R] [--threads N] [--json];
// interpolate A B [--points N] [--threads N] [--json].
Command& parse_probe(const std::vector<std::string>& args, Command& cmd) {
  const bool grid = cmd.name == "landscape";
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw ConfigError("option " + a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      cmd.help = true;
    } else if (a == "--json") {
      cmd.json = true;
    } else if (a == "--threads") {
      cmd.probe_threads = static_cast<int>(count_option(a, value(), 1, 1024));
    } else if (grid && a == "--grid") {
      cmd.probe_grid = count_option(a, value(), 2, 101);
    } else if (grid && a == "--range") {
      cmd.probe_range = number_option(a, value());
      if (!(cmd.probe_range > 0)) throw ConfigError("--range expects a half-width > 0");
    } else if (grid && a == "--center") {
      cmd.probe_center = value();
      const auto xy = split_commas(cmd.probe_center);
      if (xy.size() != 2) throw ConfigError("--center expects X,Y (plane coordinates)");
      for (const auto& c : xy) number_option(a, c);
    } else if (!grid && a == "--points") {
      cmd.probe_points = count_option(a, value(), 3, 1001);
    } else if (!a.empty() && a[0] == '-') {
      throw ConfigError("unknown option '" + a + "' for " + cmd.name);
    } else {
      cmd.positional.push_back(a);
    }
  }
  if (cmd.help) return cmd;
  if (grid && cmd.positional.size() != 1)
    throw ConfigError("landscape takes one run log (FILE.h5)");
  if (!grid && cmd.positional.size() != 2)
    throw ConfigError("interpolate takes two run logs (A.h5 B.h5) of one model");
  return cmd;
}

}  // namespace

std::string usage() {
  return R"(metaadamw — train with MetaAdamW and AdamW, headless

Usage:
  metaadamw train   [options]          one run; progress on stderr
  metaadamw compare [options] [--optimizers A,B] [--seeds N]
                                       A and B (default adamw,metaadamw) on seeds
                                       seed … seed+N−1: best and final metric mean ± std,
                                       paired t-test, Wilcoxon signed-rank, effect with
                                       95% CI, time ratios, time-to-target
  metaadamw sweep   [options] --grid KEY=a,b,c [--grid KEY=x,y] [--seeds N]
                                       every grid point under each optimizer; the best
                                       setting per optimizer, chosen on the validation
                                       split (never the evaluation split)
  metaadamw study   [options] --log-dir DIR [--seeds N] [--tune-seeds N]
                    [--grid KEY=a,b] [--meta-grid KEY=a,b] [--continue]
                    [--variant NAME:KEY=V,…] [--variant-both NAME:KEY=V,…]
                                       the evidence protocol: AdamW tuned over --grid
                                       (default lr 3e-5…1e-2 × weight_decay 0, 0.01),
                                       MetaAdamW at its η, λ over --meta-grid (default
                                       meta_update_freq 5, 10 × meta_lr 3e-3, 1e-2), both
                                       on the validation split; then compare on N (default
                                       5) fresh seeds; preset medium unless given.
                                       Then each variant on the same seeds at the tuned
                                       settings plus its own (MetaAdamW only, or with
                                       --variant-both AdamW too): ablations, the paper's
                                       design or settings, a transferred --modulator.
                                       Resumable: DIR/protocol.json
  metaadamw report DIR... [--json]     studies of several tasks side by side: metric both
                                       ways, p (t-test, Wilcoxon; raw and Holm), effect
                                       with 95% CI, time-to-target, wall-time ratio
  metaadamw inspect FILE.h5 [--json]   what a run log holds: run, status (finished,
                                       still being written, or interrupted), groups,
                                       series and their shapes
  metaadamw export FILE.h5 --csv DIR   every series as CSV at full resolution (N-D
                                       series in long format: step, group, feature, value)
  metaadamw trajectory FILE.h5... [--json]
                                       the joint PCA of runs' paths in parameter space
                                       (runs made with --set trajectory_full_every=N):
                                       each run's steps → (PC1, PC2), explained variance
  metaadamw landscape FILE.h5 [--grid N] [--center X,Y] [--range R] [--threads N] [--json]
                                       the loss on the fixed evaluation batch over an N × N
                                       grid (default 25) of the run's trajectory plane
                                       around its end (or X,Y), half-width R (default: the
                                       path's extent); stored in the log, reused when asked
                                       again (runs with keep_final_parameters, the default)
  metaadamw interpolate A.h5 B.h5 [--points N] [--threads N] [--json]
                                       the loss along (1 − a)·θ_A + a·θ_B, a from −0.5 to
                                       1.5 (default 41 points), between two runs' final
                                       parameters (e.g. AdamW and MetaAdamW of one seed);
                                       stored in both logs
  metaadamw keys                       every configuration key, its values and meaning
  metaadamw data list [--data-dir DIR] the offline datasets: source, place, presence, size
  metaadamw data fetch [NAME|all] [--data-dir DIR]
                                       fetch datasets (apt: needs root; npm: npm pack)
  metaadamw --help | --version

Options (train, compare):
  --task NAME          synthetic | image | lm | translation | sentiment | forecasting
  --preset NAME        tiny | small | medium (small models, 1000 steps) | paper
  --optimizer NAME     adamw | torch_adamw | metaadamw          (train)
  --optimizers A,B     optimizers (compare, sweep; default adamw,metaadamw)
  --seeds N            seeds per optimizer (compare, sweep; default 1)
  --grid KEY=a,b,…     sweep: values of one key (repeatable; any key of `keys`)
  --seed N  --steps N  --epochs N  --batch-size N  --lr X  --groups NAME
  --threads N          intra-op threads (default: all cores)
  --device D           auto | cpu | cuda
  --modulator FILE     start MetaAdamW from a modulator exported by another run
  --resume FILE        continue a run from a checkpoint (see keys checkpoint*)
  --data-dir DIR       where the npm datasets live (default $METAADAMW_DATA or
                       ~/.local/share/metaadamw/data)
  --config FILE.json   keys from a JSON object (applied before --set and flags)
  --set KEY=VALUE      any configuration key (repeatable; see `metaadamw keys`)
  --log FILE.h5        train: log every record to an HDF5 file (docs/LOG_FORMAT.md)
  --log-dir DIR        compare, sweep: one log per run in DIR, indexed by DIR/study.json
  --overwrite          replace an existing log (train) or study folder (compare, sweep);
                       without it an existing one is refused, never replaced
  --continue           compare, sweep, study: finish the study in --log-dir after an
                       interruption
                       (same options; finished runs are read back, never repeated; more
                       --seeds or grid values extend it)
  --json               print one JSON object with the result on stdout at the end
  --quiet              no progress output
  --nproc N            train, compare: data-parallel over N local processes (c10d Gloo;
                       rendezvous on 127.0.0.1, a free port), each a shard of every
                       batch; the same binary also joins a world that torchrun, Slurm or
                       mpirun set up (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
                       MASTER_PORT). Rank 0 logs and prints. Keys dist_backend,
                       dist_timeout_s (default 60), dist_check_every

Ablations: any key through --set, e.g. --set meta_objective=gradient,
  --set features=basic_plus, --set groups=per_module, --set meta_update_freq=10,
  --set huw_priorities=5,2,1, --set meta_targets=fixed (L_dec and L_gap pulled to fixed
  targets dec_target, gap_target); --modulator FILE for cross-task transfer.

Exit codes: 0 done (or stopped by Ctrl-C), 1 runtime or data error,
            2 bad command line or configuration, 3 training diverged.
)";
}

std::string keys_help() {
  std::ostringstream out;
  for (const auto& k : RunConfig::keys()) {
    out << k.key << "  (" << k.type << ": " << k.allowed << ")\n    " << k.help << "\n";
  }
  return out.str();
}

Command parse(const std::vector<std::string>& args) {
  Command cmd;
  if (args.empty()) {
    cmd.name = "help";
    return cmd;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    cmd.name = "help";
    return cmd;
  }
  if (first == "--version" || first == "-V") {
    cmd.name = "version";
    return cmd;
  }
  if (first != "train" && first != "compare" && first != "sweep" && first != "study" &&
      first != "report" && first != "keys" && first != "data" && first != "inspect" &&
      first != "export" && first != "trajectory" && first != "landscape" && first != "interpolate")
    throw ConfigError("unknown command '" + first +
                      "'; commands: train, compare, sweep, study, report, inspect, export, "
                      "trajectory, landscape, interpolate, keys, data");
  cmd.name = first;
  cmd.argv.assign(args.begin(), args.end());
  if (cmd.name == "report") {
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h")
        cmd.help = true;
      else if (args[i] == "--json")
        cmd.json = true;
      else if (!args[i].empty() && args[i][0] == '-')
        throw ConfigError("unknown option '" + args[i] + "' for report");
      else
        cmd.positional.push_back(args[i]);
    }
    if (!cmd.help && cmd.positional.empty())
      throw ConfigError("report takes the folders of one or more studies (study --log-dir DIR)");
    return cmd;
  }
  if (cmd.name == "landscape" || cmd.name == "interpolate") return parse_probe(args, cmd);
  if (cmd.name == "inspect" || cmd.name == "export" || cmd.name == "trajectory") {
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h") {
        cmd.help = true;
      } else if (args[i] == "--json" && cmd.name != "export") {
        cmd.json = true;
      } else if (args[i] == "--csv" && cmd.name == "export") {
        if (i + 1 >= args.size()) throw ConfigError("option --csv needs a folder");
        cmd.csv_dir = args[++i];
      } else if (!args[i].empty() && args[i][0] == '-') {
        throw ConfigError("unknown option '" + args[i] + "' for " + cmd.name);
      } else {
        cmd.positional.push_back(args[i]);
      }
    }
    if (cmd.help) return cmd;
    if (cmd.name == "trajectory") {
      if (cmd.positional.empty())
        throw ConfigError("trajectory takes one or more run logs (FILE.h5) with full snapshots");
      return cmd;
    }
    if (cmd.positional.size() != 1)
      throw ConfigError(cmd.name + " takes one run log file (FILE.h5)");
    if (cmd.name == "export" && cmd.csv_dir.empty())
      throw ConfigError("export needs --csv DIR (the folder for the CSV files)");
    return cmd;
  }
  if (cmd.name == "data") {
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--data-dir") {
        if (i + 1 >= args.size()) throw ConfigError("option --data-dir needs a value");
        cmd.data_dir = args[++i];
      } else if (args[i] == "--help" || args[i] == "-h") {
        cmd.help = true;
      } else if (!args[i].empty() && args[i][0] == '-') {
        throw ConfigError("unknown option '" + args[i] + "' for data");
      } else {
        cmd.positional.push_back(args[i]);
      }
    }
    if (cmd.positional.empty()) cmd.positional.push_back("list");
    const auto& sub = cmd.positional[0];
    if (sub != "list" && sub != "fetch")
      throw ConfigError("unknown data command '" + sub +
                        "'; use: data list | data fetch [NAME|all]");
    if (sub == "list" && cmd.positional.size() > 1) throw ConfigError("data list takes no names");
    return cmd;
  }
  const bool study = cmd.name == "compare" || cmd.name == "sweep" || cmd.name == "study";
  if (study) cmd.optimizers = {"adamw", "metaadamw"};
  if (cmd.name == "study") cmd.seeds = 5;
  auto count = [](const std::string& option, const std::string& v, long long max) {
    return static_cast<int64_t>(count_option(option, v, 1, max));
  };
  // --variant NAME:KEY=V[,KEY=V…]
  auto variant_value = [](const std::string& option, const std::string& spec) {
    Command::Variant v;
    v.both = option == "--variant-both";
    const auto colon = spec.find(':');
    v.name = spec.substr(0, std::min(colon, spec.size()));
    const bool name_ok = !v.name.empty() && std::all_of(v.name.begin(), v.name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
    });
    if (colon == std::string::npos || !name_ok)
      throw ConfigError(option +
                        " expects NAME:KEY=VALUE[,KEY=VALUE…] with a NAME of letters, "
                        "digits, - and _, got '" +
                        spec + "'");
    for (const auto& kv : split_commas(spec.substr(colon + 1))) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw ConfigError(option + " " + v.name + ": expected KEY=VALUE, got '" + kv + "'");
      v.settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (v.settings.empty()) throw ConfigError(option + " " + v.name + ": no KEY=VALUE given");
    return v;
  };
  auto grid_value = [](const std::string& option, const std::string& kv) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(option + " expects KEY=a,b,c, got '" + kv + "'");
    auto values = split_commas(kv.substr(eq + 1));
    if (values.empty()) throw ConfigError(option + " " + kv + ": no values");
    return std::make_pair(kv.substr(0, eq), values);
  };

  // Config files first, then --set and flags in command-line order.
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> sets;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw ConfigError("option " + a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      cmd.help = true;
    } else if (a == "--json") {
      cmd.json = true;
    } else if (a == "--quiet" || a == "-q") {
      cmd.quiet = true;
    } else if (a == "--nproc" && (cmd.name == "train" || cmd.name == "compare")) {
      cmd.nproc = static_cast<int>(count_option(a, value(), 1, 256));
      cmd.nproc_at = i - 1;
    } else if (a == "--config") {
      files.push_back(value());
    } else if (a == "--set") {
      const std::string kv = value();
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw ConfigError("--set expects KEY=VALUE, got '" + kv + "'");
      sets.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a == "--optimizers" && cmd.name == "study") {
      throw ConfigError("study compares adamw with metaadamw: it takes no --optimizers");
    } else if (a == "--optimizers" && study) {
      cmd.optimizers = split_commas(value());
      if (cmd.optimizers.empty()) throw ConfigError("--optimizers needs at least one name");
    } else if (a == "--optimizer" && study) {
      throw ConfigError(cmd.name + " takes --optimizers A,B (not --optimizer)");
    } else if (a == "--seeds" && study) {
      cmd.seeds = count(a, value(), 1000);
    } else if (a == "--grid" && (cmd.name == "sweep" || cmd.name == "study")) {
      cmd.grid.push_back(grid_value(a, value()));
    } else if (a == "--meta-grid" && cmd.name == "study") {
      cmd.meta_grid.push_back(grid_value(a, value()));
    } else if ((a == "--variant" || a == "--variant-both") && cmd.name == "study") {
      cmd.variants.push_back(variant_value(a, value()));
    } else if (a == "--tune-seeds" && cmd.name == "study") {
      cmd.tune_seeds = count(a, value(), 100);
    } else if (a == "--log" && cmd.name == "train") {
      cmd.log = value();
      if (cmd.log.empty())
        throw ConfigError("--log needs a file name (leave --log out for no log)");
      if (cmd.log == "-")
        throw ConfigError(
            "--log -: a run log is an HDF5 file and cannot go to stdout; give a "
            "file name (--json prints the result on stdout)");
    } else if (a == "--overwrite" && (cmd.name == "train" || study)) {
      cmd.overwrite = true;
    } else if (a == "--continue" && study) {
      cmd.continuing = true;
    } else if (a == "--log" && study) {
      throw ConfigError(cmd.name + " writes one log per run: use --log-dir DIR");
    } else if (a == "--log-dir" && study) {
      cmd.log_dir = value();
      if (cmd.log_dir.empty()) throw ConfigError("--log-dir needs a folder name");
    } else if (a == "--data-dir") {
      sets.emplace_back("data_dir", value());
    } else if (flag_keys().count(a)) {
      sets.emplace_back(flag_keys().at(a), value());
    } else {
      throw ConfigError("unknown option '" + a + "' (see metaadamw --help)");
    }
  }
  for (const auto& f : files) cmd.config.apply_json_file(f);
  for (const auto& [k, v] : sets) cmd.config.set(k, v);
  for (const auto& o : cmd.optimizers) {
    RunConfig probe;
    probe.set("optimizer", o);  // validates each name with the schema's message
  }
  if (cmd.name == "study") {
    // Runs long enough to meta-learn, unless the user chose another preset.
    if (!cmd.config.explicit_keys.count("preset")) cmd.config.set("preset", "medium");
    if (cmd.log_dir.empty())
      throw ConfigError(
          "study needs --log-dir DIR: its runs take hours and must survive an "
          "interruption (--continue)");
    if (cmd.grid.empty())  // AdamW's η × λ, around the paper's 5e-4
      cmd.grid = {{"lr", {"3e-5", "1e-4", "3e-4", "1e-3", "3e-3", "1e-2"}},
                  {"weight_decay", {"0", "0.01"}}};
    if (cmd.meta_grid.empty())  // K × the meta-optimizer's step (the learning design's 1e-2)
      cmd.meta_grid = {{"meta_update_freq", {"5", "10"}}, {"meta_lr", {"3e-3", "1e-2"}}};
  }
  for (const auto& [key, values] : cmd.meta_grid) {
    for (const auto& v : values) {
      RunConfig probe = cmd.config;
      probe.set(key, v);
    }
  }
  for (const auto& [key, values] : cmd.grid) {
    for (const auto& v : values) {
      RunConfig probe = cmd.config;
      probe.set(key, v);  // an unknown key or a bad value fails now, not after hours
    }
  }
  for (size_t i = 0; i < cmd.variants.size(); ++i) {
    const auto& v = cmd.variants[i];
    for (size_t j = 0; j < i; ++j)
      if (cmd.variants[j].name == v.name)
        throw ConfigError("--variant " + v.name + " is given twice");
    RunConfig probe = cmd.config;
    for (const auto& [key, value] : v.settings) {
      if (key == "seed" || key == "optimizer")
        throw ConfigError("--variant " + v.name + ": " + key +
                          " is the study's to choose (variants run on its evaluation seeds)");
      probe.set(key, value);
    }
  }
  if (cmd.continuing && cmd.log_dir.empty())
    throw ConfigError("--continue needs --log-dir DIR: the folder of the study to continue");
  if (cmd.continuing && cmd.overwrite)
    throw ConfigError(
        "--continue keeps the study's finished runs, --overwrite replaces them: "
        "give one of the two");
  if (cmd.name == "sweep" && cmd.grid.empty())
    throw ConfigError("sweep needs at least one --grid KEY=a,b,c");
  return cmd;
}

}  // namespace maw::cli
