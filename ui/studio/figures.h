// Figures for a paper, written from run logs without a window (metaadamw-studio --figures
// DIR): the panels' plotting (plot_kit) at a fixed size, as PNG and SVG.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>
#include <vector>

namespace maw::ui {

struct FigureOptions {
  QSize size{1400, 520};   // pixels of one figure (the PNG is written at twice that)
  double smoothing = 0.9;  // EMA of each seed's training loss before the band
  bool min_max = false;    // band: ± one standard deviation over seeds, or min–max
};

// The runs in `inputs` — run logs (.h5), folders of them (a compare's --log-dir), or a
// study folder (`metaadamw study --log-dir`: its compare/ phase) — drawn into `dir`:
//   curves.png/.svg      per optimizer variant, the mean over seeds with a band: the
//                        training loss (EMA-smoothed per seed) and the evaluation metric
//                        per step
//   modulation.png/.svg  α and β per parameter group over the steps of one MetaAdamW run
//                        (the lowest seed), when there is one
// Returns the files written. Throws DataError for an input that is not a run log, a
// folder without logs, or a file that cannot be written.
std::vector<QString> write_figures(const QStringList& inputs, const QString& dir,
                                   const FigureOptions& options = {});

}  // namespace maw::ui
