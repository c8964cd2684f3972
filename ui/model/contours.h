// Iso-lines of a function sampled on a regular grid (marching squares), for the contours
// of a loss landscape over the Trajectory panel's colour map. Plain C++.
#pragma once

#include <vector>

namespace maw::ui {

struct Segment {
  double x1, y1, x2, y2;
};

// The pieces of the line f = `level` through an nx × ny grid of `values` (row-major, row =
// y from y0 to y1, column = x from x0 to x1), linear along each cell edge; a saddle cell
// is split by its centre's value (the mean of its corners).
std::vector<Segment> contour_segments(const std::vector<float>& values, int nx, int ny,
                                      double level, double x0, double x1, double y0, double y1);

// `count` levels at the values' quantiles k / (count + 1), k = 1 … count (equal shares of the
// grid between two lines, however steep the function), distinct and increasing.
std::vector<double> contour_levels(const std::vector<float>& values, int count);

}  // namespace maw::ui
