#include "studio/step_range.h"

#include <algorithm>
#include <cmath>

namespace maw::ui {

void StepRange::select(double lo, double hi) {
  if (hi > lo) {
    lo = std::max(0.0, std::floor(lo));
    hi = std::ceil(hi);
  }
  if (!(hi > lo)) lo = hi = 0;
  if (lo == lo_ && hi == hi_) return;
  lo_ = lo;
  hi_ = hi;
  emit selection_changed(lo_, hi_);
  announce();
}

void StepRange::set_view(double lo, double hi) {
  if (!(hi > lo)) lo = hi = 0;
  view_lo_ = lo;
  view_hi_ = hi;
  announce();
}

std::pair<double, double> StepRange::shown() const {
  return has_selection() ? selection() : std::make_pair(view_lo_, view_hi_);
}

void StepRange::hover(double step) {
  if (step == hover_ || (std::isnan(step) && std::isnan(hover_))) return;
  hover_ = step;
  emit hovered(step);
}

void StepRange::announce() {
  const auto now = shown();
  if (now == announced_) return;
  announced_ = now;
  emit changed(now.first, now.second);
}

}  // namespace maw::ui
