#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace maw::optim {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::Constant;
  if (name == "cosine") return LrSchedule::Cosine;
  if (name == "linear") return LrSchedule::Linear;
  throw std::invalid_argument("unknown learning-rate schedule '" + name + "'");
}

double lr_scale(LrSchedule schedule, int64_t done, int64_t total, int64_t warmup,
                double min_ratio) {
  if (warmup > 0 && done < warmup)
    return static_cast<double>(done + 1) / static_cast<double>(warmup);
  if (schedule == LrSchedule::Constant) return 1.0;
  const int64_t span = total - std::max<int64_t>(warmup, 0) - 1;  // steps after the first decayed
  if (span <= 0) return 1.0;
  const double progress =
      std::clamp(static_cast<double>(done - std::max<int64_t>(warmup, 0)) / span, 0.0, 1.0);
  const double shape =
      schedule == LrSchedule::Cosine ? 0.5 * (1.0 + std::cos(M_PI * progress)) : 1.0 - progress;
  return min_ratio + (1.0 - min_ratio) * shape;
}

}  // namespace maw::optim
