// The one JSON object that `--json` prints. Floats use 17 significant digits, so that a
// run's numbers can be compared bit for bit across runs.
#pragma once

#include <string>
#include <vector>

#include "api/records.h"

namespace maw::cli {

std::string summary_json(const RunSummary& s, int indent = 0);
std::string compare_json(const std::vector<RunSummary>& runs);

}  // namespace maw::cli
