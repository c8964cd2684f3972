// The one JSON object that `--json` prints. Floats use 17 significant digits, so that a
// run's numbers can be compared bit for bit across runs.
#pragma once

#include <string>
#include <vector>

#include "api/records.h"

namespace maw::cli {

std::string summary_json(const RunSummary& s, int indent = 0);
// The inverse, for a study that continues (study.json's runs): null numbers read as NaN.
// Throws DataError naming the field when one is missing or of the wrong type.
RunSummary summary_from_json(const std::string& text);
std::string compare_json(const std::vector<RunSummary>& runs);

}  // namespace maw::cli
