// GUI replot benchmark (issue step 5, item 9): 8 series × 1 000 000 points in one
// QCustomPlot, (a) raw with QCustomPlot's adaptive sampling, (b) through the studio's
// Trace (min/max decimation to its capacity), which is what the studio plots. Prints
// the median replot time of each and the memory a Trace holds for 1 000 000 points.
// Run offscreen: QT_QPA_PLATFORM=offscreen build/ui/metaadamw_replot_bench [FRAMES=21]
// [PEN_WIDTH=1] [ANTIALIASED=0] (the defaults are what the studio uses for dense graphs).
#include <qcustomplot.h>
#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "model/trace.h"

namespace {

double median_replot_ms(QCustomPlot& p, int frames) {
  std::vector<double> ms;
  for (int f = 0; f < frames; ++f) {
    // Each frame shows a slightly different range, as while following a live run.
    p.xAxis->setRange(0, 1e6 - 1000.0 * (f % 7));
    QElapsedTimer t;
    t.start();
    p.replot(QCustomPlot::rpImmediateRefresh);
    ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  const int n = 1000000, series = 8, frames = argc > 1 ? std::atoi(argv[1]) : 21;
  const double width = argc > 2 ? std::atof(argv[2]) : 1.0;
  const bool aa = argc > 3 ? std::atoi(argv[3]) != 0 : false;  // the studio's dense setting
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<std::vector<double>> ys(series, std::vector<double>(n));
  for (int s = 0; s < series; ++s)
    for (int i = 0; i < n; ++i) ys[s][i] = std::exp(-i / (2e5 * (s + 1))) + noise(rng);
  QVector<double> x(n);
  for (int i = 0; i < n; ++i) x[i] = i;

  QCustomPlot raw;
  raw.resize(1200, 700);
  raw.show();
  for (int s = 0; s < series; ++s) {
    auto* g = raw.addGraph();
    g->setPen(QPen(QColor::fromHsv(s * 40, 200, 200), width));
    g->setAntialiased(aa);
    g->setAdaptiveSampling(true);
    g->setData(x, QVector<double>(ys[s].begin(), ys[s].end()), true);
  }
  raw.rescaleAxes();
  const double raw_ms = median_replot_ms(raw, frames);

  QCustomPlot studio;
  studio.resize(1200, 700);
  studio.show();
  size_t held = 0, bytes = 0;
  for (int s = 0; s < series; ++s) {
    maw::ui::Trace t;  // the studio's default capacity
    for (int i = 0; i < n; ++i) t.append(i, i * 0.01, ys[s][i]);
    held = t.size();
    bytes = 3 * sizeof(double) * t.steps().capacity();
    auto* g = studio.addGraph();
    g->setPen(QPen(QColor::fromHsv(s * 40, 200, 200), width));
    g->setAntialiased(aa);
    g->setData(QVector<double>(t.steps().begin(), t.steps().end()),
               QVector<double>(t.values().begin(), t.values().end()), true);
  }
  studio.rescaleAxes();
  const double trace_ms = median_replot_ms(studio, frames);
  std::printf(
      "{\n  \"series\": %d,\n  \"points_per_series\": %d,\n"
      "  \"raw_adaptive_sampling_ms\": %.2f,\n  \"trace_decimated_ms\": %.2f,\n"
      "  \"trace_points_held\": %zu,\n  \"trace_bytes_per_series\": %zu,\n"
      "  \"raw_bytes_per_series\": %zu,\n  \"target_ms\": 33\n}\n",
      series, n, raw_ms, trace_ms, held, bytes, static_cast<size_t>(n) * sizeof(QCPGraphData));
  return 0;
}
