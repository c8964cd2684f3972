// The CLI's run-log commands (inspect, export) and the study index of --log-dir.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "api/records.h"

namespace maw::cli {

// `metaadamw inspect FILE [--json]`: what a log holds, finished, growing or interrupted.
// Throws DataError for an unreadable file.
void inspect_log(const std::string& path, bool json, std::FILE* out);

// `metaadamw export FILE --csv DIR`: every series at full resolution. 1-D series of one
// folder share a wide CSV (steps.csv, evals.csv, events.csv, meta.csv, …); N-D series are
// long (one row per element: step, the axis labels — group and feature names — value).
// Returns the files written with their data-row counts.
std::vector<std::pair<std::string, uint64_t>> export_csv(const std::string& path,
                                                         const std::string& dir);

// `metaadamw trajectory LOG… [--json]`: the joint PCA (two components) of the logs' full
// snapshots (trajectory_full_every), every run in one basis: per run its path, step → (PC1,
// PC2), and each component's share of the variance. Throws DataError for a log without
// full snapshots, logs of different initializations, an unreadable file.
void trajectory_pca(const std::vector<std::string>& logs, bool json, std::FILE* out);

struct Command;
// `metaadamw landscape FILE …` and `metaadamw interpolate A B …` (api/probe.h): the probe
// with progress on stderr (Ctrl-C cancels, nothing stored), its result on `out` as text or
// JSON. Returns the exit code; throws DataError / ConfigError as the probes do.
int probe_command(const Command& cmd, std::FILE* out);

}  // namespace maw::cli
