// The CLI's runs: one (train), a study over seeds (compare) or a grid (sweep), the tuning
// protocol that chains them (study), and the cross-task report (report). Each study with
// --log-dir keeps one log per run and an index, and continues after an interruption.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.h"
#include "services/study.h"

namespace maw::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDiverged = 3;

// SIGINT / SIGTERM: the running run stops (its log closed as "stopped"), no further run
// of a study starts.
void install_interrupt_handlers();
bool interrupted();

// One run with the CLI's progress output, logged to `log_path` unless it is empty.
SeedRun run_one(const RunConfig& config, const Command& cmd, const std::string& log_path,
                bool overwrite);
int exit_code(const RunSummary& s);

// compare / sweep; the study's JSON (compare_study / sweep_study) into *study when given,
// compare's runs per optimizer into *runs. A compare with export_modulator set writes each
// MetaAdamW seed's modulator to PATH with "-seedN" before its extension (AdamW runs none).
int compare_command(const Command& cmd, nlohmann::ordered_json* study = nullptr,
                    std::vector<OptimizerRuns>* runs = nullptr);
int sweep_command(const Command& cmd, nlohmann::ordered_json* study = nullptr);

// study: tune AdamW's η × λ on the validation split, then MetaAdamW's K × meta_lr at the
// tuned η, λ, then compare both over --seeds evaluation seeds disjoint from the tuning
// seed(s) (exporting each MetaAdamW seed's modulator, for transfer), then each --variant
// on the same seeds; each phase a resumable study in a sub-folder of --log-dir, the whole
// in DIR/protocol.json.
int protocol_command(const Command& cmd);

// report DIR…: the protocols of several tasks side by side, with Holm's correction over
// the tasks' p-values; a Markdown table (RESULTS.md) or --json.
int report_command(const Command& cmd);

}  // namespace maw::cli
