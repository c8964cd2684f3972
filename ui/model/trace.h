// One plotted quantity over a run: (step, wall time, value) points in arrival order, with
// memory bounded for display (ARCHITECTURE.md: the full data stays in the run log).
// Plain C++ (no Qt): the studio's data model is tested without a display.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace maw::ui {

// Up to `capacity` points are held at full resolution. When full, the trace halves
// itself: groups of 4 points become buckets that keep their minimum and maximum (in step
// order), and later points gather into buckets of the same width. So a 1 000 000-step
// trace holds between capacity/2 and capacity points, and a spike never disappears.
class Trace {
 public:
  explicit Trace(size_t capacity = 16384);  // rounded up to a multiple of 4, at least 8

  void append(double step, double wall, double value);
  void clear();

  size_t size() const { return steps_.size(); }
  bool empty() const { return steps_.empty(); }
  uint64_t appended() const { return appended_; }  // raw points seen
  // Raw points per bucket: 1 at full resolution, then 4, 8, 16, … (each bucket is held
  // as two points, its minimum and maximum).
  uint64_t bucket() const { return bucket_; }
  const std::vector<double>& steps() const { return steps_; }
  const std::vector<double>& walls() const { return walls_; }
  const std::vector<double>& values() const { return values_; }
  double last_value() const { return last_value_; }
  double last_step() const { return last_step_; }

 private:
  void compact();

  size_t capacity_;
  uint64_t appended_ = 0;
  uint64_t bucket_ = 1;
  uint64_t open_count_ = 0;  // raw points in the newest bucket (bucket_ > 1)
  double last_value_ = 0.0, last_step_ = 0.0;
  std::vector<double> steps_, walls_, values_;
};

// Bias-corrected exponential moving average of a trace's values (TensorBoard's
// smoothing): smoothing in [0, 1); 0 returns the values. A held point that stands for k
// raw points advances the average by k raw steps, so the curve keeps its shape when the
// trace decimates.
std::vector<double> ema(const Trace& trace, double smoothing);

// Several seeds of one curve as a mean line and a band, on the step grid of the
// shortest trace (the others interpolated linearly in step).
struct Band {
  std::vector<double> steps, mean, lo, hi;
};
enum class BandKind { MinMax, StdDev };
Band band(const std::vector<const Trace*>& traces, BandKind kind);

}  // namespace maw::ui
