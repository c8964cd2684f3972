#include "model/trace.h"

#include <algorithm>
#include <cmath>

namespace maw::ui {

Trace::Trace(size_t capacity) : capacity_(std::max<size_t>(8, (capacity + 3) / 4 * 4)) {
  steps_.reserve(std::min<size_t>(capacity_, 1024));
  walls_.reserve(steps_.capacity());
  values_.reserve(steps_.capacity());
}

void Trace::clear() {
  steps_.clear();
  walls_.clear();
  values_.clear();
  appended_ = 0;
  bucket_ = 1;
  open_count_ = 0;
}

void Trace::append(double step, double wall, double value) {
  ++appended_;
  last_value_ = value;
  last_step_ = step;
  if (bucket_ == 1) {
    if (steps_.size() >= capacity_) {
      compact();  // now bucket_ > 1: fall through to the bucket path
    } else {
      steps_.push_back(step);
      walls_.push_back(wall);
      values_.push_back(value);
      return;
    }
  }
  if (open_count_ == 0 || open_count_ >= bucket_) {  // open a new bucket
    if (steps_.size() + 2 > capacity_) compact();
    steps_.push_back(step);
    walls_.push_back(wall);
    values_.push_back(value);
    open_count_ = 1;
    return;
  }
  // Into the open bucket, held as (min, max) in step order: one point until it has two.
  const size_t n = steps_.size();
  if (open_count_ == 1) {
    steps_.push_back(step);
    walls_.push_back(wall);
    values_.push_back(value);
  } else {
    // The two held points of the bucket: n-2 and n-1. Replace the one this value beats.
    const size_t a = n - 2, b = n - 1;
    const bool a_is_min = values_[a] <= values_[b];
    const size_t lo = a_is_min ? a : b, hi = a_is_min ? b : a;
    if (value < values_[lo]) {
      steps_[lo] = step;
      walls_[lo] = wall;
      values_[lo] = value;
    } else if (value > values_[hi]) {
      steps_[hi] = step;
      walls_[hi] = wall;
      values_[hi] = value;
    }
    if (steps_[a] > steps_[b]) {  // keep step order
      std::swap(steps_[a], steps_[b]);
      std::swap(walls_[a], walls_[b]);
      std::swap(values_[a], values_[b]);
    }
  }
  ++open_count_;
}

// Halves the held points: at full resolution, groups of 4 points become (min, max)
// buckets of 4; later, pairs of buckets merge into one of twice the width.
void Trace::compact() {
  const size_t group = 4;  // held points per new bucket (2 at full resolution → 4 raw)
  std::vector<double> s, w, v;
  s.reserve(capacity_);
  w.reserve(capacity_);
  v.reserve(capacity_);
  const size_t n = steps_.size();
  for (size_t i = 0; i < n; i += group) {
    const size_t end = std::min(n, i + group);
    size_t lo = i, hi = i;
    for (size_t k = i; k < end; ++k) {
      if (values_[k] < values_[lo]) lo = k;
      if (values_[k] > values_[hi]) hi = k;
    }
    const size_t first = std::min(lo, hi), second = std::max(lo, hi);
    s.push_back(steps_[first]);
    w.push_back(walls_[first]);
    v.push_back(values_[first]);
    if (second != first) {
      s.push_back(steps_[second]);
      w.push_back(walls_[second]);
      v.push_back(values_[second]);
    }
  }
  steps_.swap(s);
  walls_.swap(w);
  values_.swap(v);
  bucket_ = bucket_ == 1 ? 4 : bucket_ * 2;
  open_count_ = bucket_;  // the last merged bucket counts as closed
}

std::vector<double> ema(const Trace& trace, double smoothing) {
  const auto& v = trace.values();
  std::vector<double> out(v.size());
  if (smoothing <= 0.0) return v;
  smoothing = std::min(smoothing, 0.999999);
  // Each held point stands for `per` raw points (a bucket's two points share its width).
  const double per = trace.bucket() == 1 ? 1.0 : static_cast<double>(trace.bucket()) / 2.0;
  const double keep = std::pow(smoothing, per);
  double acc = 0.0, weight = 0.0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      out[i] = v[i];
      continue;
    }
    acc = keep * acc + (1.0 - keep) * v[i];
    weight = keep * weight + (1.0 - keep);
    out[i] = acc / weight;  // bias correction: the average of what has been seen
  }
  return out;
}

namespace {
double at_step(const Trace& t, double step) {
  const auto& s = t.steps();
  const auto& v = t.values();
  if (s.empty()) return std::nan("");
  if (step <= s.front()) return v.front();
  if (step >= s.back()) return v.back();
  const auto it = std::lower_bound(s.begin(), s.end(), step);
  const size_t k = static_cast<size_t>(it - s.begin());
  if (s[k] == step) return v[k];
  const double f = (step - s[k - 1]) / (s[k] - s[k - 1]);
  return v[k - 1] + f * (v[k] - v[k - 1]);
}
}  // namespace

Band band(const std::vector<const Trace*>& traces, BandKind kind) {
  Band b;
  const Trace* grid = nullptr;
  for (const auto* t : traces)
    if (t && !t->empty() && (!grid || t->last_step() < grid->last_step())) grid = t;
  if (!grid) return b;
  b.steps = grid->steps();
  for (double step : b.steps) {
    double sum = 0.0, sq = 0.0, lo = INFINITY, hi = -INFINITY;
    int n = 0;
    for (const auto* t : traces) {
      if (!t || t->empty()) continue;
      const double x = at_step(*t, step);
      if (!std::isfinite(x)) continue;
      sum += x;
      sq += x * x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      ++n;
    }
    const double mean = n ? sum / n : std::nan("");
    b.mean.push_back(mean);
    if (kind == BandKind::MinMax) {
      b.lo.push_back(n ? lo : mean);
      b.hi.push_back(n ? hi : mean);
    } else {
      const double var = n > 1 ? std::max(0.0, (sq - n * mean * mean) / (n - 1)) : 0.0;
      b.lo.push_back(mean - std::sqrt(var));
      b.hi.push_back(mean + std::sqrt(var));
    }
  }
  return b;
}

}  // namespace maw::ui
