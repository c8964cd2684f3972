// Command-line parsing for `metaadamw`: turns argv into a command and a RunConfig.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "api/run_config.h"

namespace maw::cli {

struct Command {
  // train | compare | sweep | study | report | inspect | export | keys | data | help | version
  std::string name;
  // data: list | fetch [NAME|all]; inspect, export: FILE; report: DIR…
  std::vector<std::string> positional;
  std::vector<std::string> argv;  // the command line as given (for study.json)
  std::string data_dir;           // --data-dir
  RunConfig config;
  std::vector<std::string> optimizers;  // compare, sweep
  int64_t seeds = 1;                    // compare, sweep: seeds seed, seed+1, …
  // sweep: KEY → values, in command-line order; the grid is their cartesian product.
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  // study: MetaAdamW's own grid (--meta-grid) and the seeds of each tuning point.
  std::vector<std::pair<std::string, std::vector<std::string>>> meta_grid;
  int64_t tune_seeds = 1;
  // study: variants of the evaluation phase, each on the same evaluation seeds at the
  // tuned settings plus its own (--variant NAME:KEY=V,…: MetaAdamW only, paired with the
  // tuned AdamW and MetaAdamW; --variant-both: AdamW and MetaAdamW both changed).
  struct Variant {
    std::string name;
    bool both = false;
    std::vector<std::pair<std::string, std::string>> settings;
  };
  std::vector<Variant> variants;
  std::string log;               // train: --log FILE (HDF5 run log)
  std::string log_dir;           // compare, sweep: --log-dir DIR (one log per run + study.json)
  std::string csv_dir;           // export: --csv DIR
  bool overwrite = false;        // --overwrite: replace existing logs
  bool continuing = false;       // --continue: finish the study in --log-dir
  bool read_only_index = false;  // a data-parallel rank ≠ 0 continuing: reads, never writes
  bool json = false;
  bool quiet = false;
  bool help = false;
  // landscape, interpolate (api/probe.h): the grid's points a side, its centre ("" = the
  // run's end; else "X,Y" on directions 1, 2), half-width (0: the path's extent), the
  // line's points, intra-op threads (0: all cores).
  int64_t probe_grid = 25;
  std::string probe_center;
  double probe_range = 0.0;
  int64_t probe_points = 41;
  int probe_threads = 0;
  // train, compare: --nproc N (data-parallel over N local processes) and where it stood in
  // the arguments (the workers get the command line without it).
  int nproc = 1;
  size_t nproc_at = 0;
};

// Throws ConfigError (exit code 2) for an unknown option, key or value.
Command parse(const std::vector<std::string>& args);

std::string usage();
std::string keys_help();

}  // namespace maw::cli
