// A run's summary as a JSON object (what `--json` prints, what study.json records) and
// back, and the one printer of the CLI's JSON: floats with 17 significant digits, so that
// a run's numbers compare bit for bit across runs and machines. Torch-free.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/records.h"

namespace maw {

// NaN and infinities become null (JSON has neither).
nlohmann::ordered_json summary_to_json(const RunSummary& s);
// The inverse: null numbers read as NaN. Throws DataError naming the field when one is
// missing or of the wrong type.
RunSummary summary_from_json(const nlohmann::ordered_json& j);
// {task, preset, seed, runs: [summary…]} for runs that have no study statistics.
nlohmann::ordered_json runs_json(const std::vector<RunSummary>& runs);

// `j` as text, indented by `indent` spaces per level like nlohmann's dump, every float
// with 17 significant digits (nlohmann's dump writes the shortest form instead).
std::string json_text(const nlohmann::ordered_json& j, int indent = 2);

}  // namespace maw
