// The index of a study's folder (compare / sweep --log-dir DIR): DIR/study.json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "api/records.h"
#include "services/study.h"

namespace maw::cli {

// Writes `j` to `path` through a temporary file and a rename: a reader never sees half a
// file, an interrupted writer leaves the previous one. Throws DataError.
void write_json_atomically(const std::string& path, const nlohmann::ordered_json& j);

// The keys in which a study's recorded configuration (`before`) and the one it is
// continued under (`now`) differ. A key the record lacks — added by a later version of
// metaadamw — differs only when `now` sets it away from its default; export_modulator
// (where the trained modulator goes, not how a run trains) never does.
std::vector<std::string> config_differences(const nlohmann::ordered_json& before,
                                            const nlohmann::ordered_json& now);

// --log-dir DIR of compare / sweep: one log per run, and DIR/study.json, rewritten after
// every run, that indexes them (so an interrupted study still has a valid index).
// --continue picks a study up where it stopped: runs that finished there (completed,
// diverged or early-stopped, their log saying the same) are read back from study.json and
// their logs, never repeated; the others — stopped, killed, not started — run (again).
// study.json also records each run's evaluations, so a study whose logs are not on this
// machine (its JSON carried over from another) continues too: a finished run whose log is
// absent is read back from the index alone. A log that is there but differs (another
// status, damaged) is run again.
class StudyIndex {
 public:
  // `config_json`: the study's base configuration (RunConfig::to_json); a study continues
  // only under the same one. Throws ConfigError when the folder holds another study (no
  // --overwrite), or, continuing, none, one of another kind or configuration.
  StudyIndex(std::string dir, std::string kind, std::vector<std::string> argv,
             std::string config_json, bool overwrite, bool continuing);
  bool enabled() const { return !dir_.empty(); }
  bool overwrite() const { return overwrite_; }
  bool continuing() const { return continuing_; }
  // A data-parallel rank other than 0 continuing a study: it reads the index and the logs
  // to skip what finished (the same runs as rank 0, which alone writes), and writes nothing.
  void set_read_only() { read_only_ = true; }
  bool read_only() const { return read_only_; }
  // Before the first run: a folder that holds another study, or any of the logs the study
  // will write, is refused (ConfigError) unless overwrite — not hours later at that run.
  // Continuing, the folder's logs are this study's: nothing to claim.
  void claim(const std::vector<std::string>& log_paths) const;
  // The log file for the next run (created by the run's writer).
  std::string log_path(const std::string& optimizer, uint64_t seed,
                       const std::vector<std::pair<std::string, std::string>>& settings) const;
  // Continuing: the run of that log as it finished before (its summary from study.json,
  // its evaluations from the log, or from study.json when the log is absent), or `no`
  // when it has to run.
  enum class Finished { no, from_log, from_index };
  Finished finished(const std::string& log_path, SeedRun* out) const;
  void add(const std::string& log_path, const SeedRun& run,
           const std::vector<std::pair<std::string, std::string>>& settings);
  // The study's aggregate JSON (compare_study / sweep_study), written at the end.
  void finish(const nlohmann::ordered_json& study);

 private:
  void load_previous(const std::string& index, bool exists);
  void write() const;
  std::string dir_, kind_;
  std::vector<std::string> argv_;
  std::string config_json_;
  nlohmann::ordered_json study_;  // null until finish()
  std::string created_;
  // The runs array: (log file name, run entry as JSON), in the order first run; a run that
  // runs again (continued) replaces its entry.
  std::vector<std::pair<std::string, nlohmann::ordered_json>> runs_;
  bool overwrite_ = false, continuing_ = false, read_only_ = false;
};

}  // namespace maw::cli
