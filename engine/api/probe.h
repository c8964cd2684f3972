// Probes of a finished run's neighbourhood in parameter space, from its log (issue step 14):
// the loss landscape around any point of the trajectory's plane, and the loss along the line
// between two runs' final parameters (Goodfellow et al., 2015). Each rebuilds the run's task
// and model from the log's configuration, checks that the directions it draws are the run's
// (the log's checksum), starts from the parameters the run ended with (keep_final_parameters)
// and evaluates on the landscape's fixed batch (the evaluation split's first max(batch, 256)
// examples). The result is stored in the log (replacing an earlier one) and a request equal
// to the stored one is answered from it. Torch-free header: the CLI and the studio's engine
// thread call it.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "api/records.h"

namespace maw {

// Checked before each evaluation (true: abandon; nothing is stored), told after each.
struct ProbeControl {
  std::function<bool()> cancelled;
  std::function<void(int64_t done, int64_t total)> progress;
};

struct ProbeCancelled : std::runtime_error {
  ProbeCancelled() : std::runtime_error("cancelled") {}
};

struct LandscapeRequest {
  int64_t grid = 25;   // N × N points, 2..101
  bool at_end = true;  // centred at the run's last point, else at (center_x, center_y)
  double center_x = 0.0, center_y = 0.0;
  double half_width = 0.0;  // in units of the directions; 0: the path's extent × 1.25
  int threads = 0;          // 0: the default
};

// Throws DataError for a log that cannot be probed (not a run log, still being written,
// without final parameters or a plane, directions this build draws differently, data it
// cannot load), ConfigError for a bad request, ProbeCancelled. `cached`: set to whether the
// log already held this landscape.
LandscapeRecord probe_landscape(const std::string& log, const LandscapeRequest& request,
                                const ProbeControl& control = {}, bool* cached = nullptr);

// θ(a) = (1 − a)·θ_log + a·θ_other at `points` values of a from −0.5 to 1.5 (0 and 1
// among them when points ≡ 1 mod 4). Both runs must be of one model (task, preset,
// parameter count); stored in both logs (each with a from itself). Throws as above.
InterpolationRecord probe_interpolation(const std::string& log, const std::string& other_log,
                                        int64_t points = 41, const ProbeControl& control = {},
                                        int threads = 0, bool* cached = nullptr);

}  // namespace maw
