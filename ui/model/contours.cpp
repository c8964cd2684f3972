#include "model/contours.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace maw::ui {

std::vector<Segment> contour_segments(const std::vector<float>& values, int nx, int ny,
                                      double level, double x0, double x1, double y0, double y1) {
  std::vector<Segment> out;
  if (nx < 2 || ny < 2 || values.size() != static_cast<size_t>(nx) * static_cast<size_t>(ny))
    return out;
  const double dx = (x1 - x0) / (nx - 1), dy = (y1 - y0) / (ny - 1);
  auto v = [&](int i, int j) {
    return static_cast<double>(values[static_cast<size_t>(i * nx + j)]);
  };
  struct P {
    double x, y;
  };
  for (int i = 0; i + 1 < ny; ++i)
    for (int j = 0; j + 1 < nx; ++j) {
      // Corners counter-clockwise from the lower left; edge k joins corner k and k + 1.
      const std::array<double, 4> c = {v(i, j), v(i, j + 1), v(i + 1, j + 1), v(i + 1, j)};
      const std::array<P, 4> at = {P{x0 + j * dx, y0 + i * dy}, P{x0 + (j + 1) * dx, y0 + i * dy},
                                   P{x0 + (j + 1) * dx, y0 + (i + 1) * dy},
                                   P{x0 + j * dx, y0 + (i + 1) * dy}};
      if (std::any_of(c.begin(), c.end(), [](double x) { return !std::isfinite(x); })) continue;
      std::array<P, 4> cross{};
      std::array<int, 4> edge{};
      int n = 0;
      for (int k = 0; k < 4; ++k) {
        const double a = c[static_cast<size_t>(k)], b = c[static_cast<size_t>((k + 1) % 4)];
        if ((a < level) == (b < level)) continue;
        const double t = (level - a) / (b - a);
        const P& p = at[static_cast<size_t>(k)];
        const P& q = at[static_cast<size_t>((k + 1) % 4)];
        cross[static_cast<size_t>(n)] = {p.x + t * (q.x - p.x), p.y + t * (q.y - p.y)};
        edge[static_cast<size_t>(n++)] = k;
      }
      if (n == 2) {
        out.push_back({cross[0].x, cross[0].y, cross[1].x, cross[1].y});
      } else if (n == 4) {
        // A saddle: corners 0 and 2 on one side, 1 and 3 on the other. When the centre is
        // on corner 0's side, the lines cut off corners 1 and 3 (edges 0–1 and 2–3); else
        // corners 0 and 2 (edges 3–0 and 1–2).
        const double centre = (c[0] + c[1] + c[2] + c[3]) / 4;
        const bool with0 = (centre < level) == (c[0] < level);
        if (with0) {
          out.push_back({cross[0].x, cross[0].y, cross[1].x, cross[1].y});
          out.push_back({cross[2].x, cross[2].y, cross[3].x, cross[3].y});
        } else {
          out.push_back({cross[3].x, cross[3].y, cross[0].x, cross[0].y});
          out.push_back({cross[1].x, cross[1].y, cross[2].x, cross[2].y});
        }
      }
      (void)edge;
    }
  return out;
}

std::vector<double> contour_levels(const std::vector<float>& values, int count) {
  std::vector<double> v;
  for (float x : values)
    if (std::isfinite(x)) v.push_back(x);
  std::vector<double> out;
  if (v.size() < 2 || count < 1) return out;
  std::sort(v.begin(), v.end());
  for (int k = 1; k <= count; ++k) {
    const double q = static_cast<double>(k) / (count + 1) * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(q));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    const double level = v[lo] + (q - static_cast<double>(lo)) * (v[hi] - v[lo]);
    if (level > v.front() && level < v.back() && (out.empty() || level > out.back()))
      out.push_back(level);
  }
  return out;
}

}  // namespace maw::ui
