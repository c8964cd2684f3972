#include "studio/figures.h"

#include <qcustomplot.h>
#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <map>
#include <memory>

#include "api/errors.h"
#include "model/log_follower.h"
#include "model/run_model.h"
#include "model/trace.h"
#include "studio/export.h"
#include "studio/plot_kit.h"

namespace maw::ui {

namespace {

// The run logs named by the inputs, in a stable order.
QStringList log_files(const QStringList& inputs) {
  QStringList files;
  for (const QString& in : inputs) {
    const QFileInfo fi(in);
    if (fi.isDir()) {
      QDir d(in);
      if (d.exists("protocol.json") && d.exists("compare")) d.cd("compare");  // a study
      const auto found = d.entryList({"*.h5"}, QDir::Files, QDir::Name);
      if (found.isEmpty())
        throw DataError("--figures: '" + in.toStdString() +
                        "' holds no run logs (*.h5): give run logs, a compare's --log-dir "
                        "or a study's folder");
      for (const QString& f : found) files << d.filePath(f);
    } else if (fi.exists()) {
      files << in;
    } else {
      throw DataError("--figures: '" + in.toStdString() + "': no such file or folder");
    }
  }
  return files;
}

std::vector<std::unique_ptr<RunModel>> load_runs(const QStringList& files) {
  std::vector<std::unique_ptr<RunModel>> runs;
  for (const QString& f : files) {
    auto m = std::make_unique<RunModel>(f.toStdString(), 1u << 20);  // figures: no decimation
    LogFollower follower(f.toStdString());
    while (follower.poll(*m)) {
    }
    runs.push_back(std::move(m));
  }
  return runs;
}

// A Trace of values computed from another one (the same steps and wall times).
Trace with_values(const Trace& t, const std::vector<double>& values) {
  Trace out(t.size() + 8);
  for (size_t i = 0; i < t.size() && i < values.size(); ++i)
    out.append(t.steps()[i], t.walls()[i], values[i]);
  return out;
}

// A figure: a title, a row of panels (each with its own title), the legend below them.
struct Figure {
  std::unique_ptr<QCustomPlot> plot;
  QCPLayoutGrid* panels = nullptr;
};

Figure new_figure(const FigureOptions& o, const QString& title) {
  Figure fig;
  fig.plot = std::make_unique<QCustomPlot>();
  QCustomPlot* p = fig.plot.get();
  p->resize(o.size);
  p->setBackground(Qt::white);
  p->plotLayout()->clear();  // deletes the default axis rect and its legend
  QFont f = p->font();
  f.setPointSizeF(f.pointSizeF() * 1.2);
  f.setBold(true);
  p->plotLayout()->addElement(0, 0, new QCPTextElement(p, title, f));
  fig.panels = new QCPLayoutGrid;
  p->plotLayout()->addElement(1, 0, fig.panels);
  p->legend = new QCPLegend;
  auto* cell = new QCPLayoutGrid;  // centres the legend between two stretching spacers
  p->plotLayout()->addElement(2, 0, cell);
  cell->addElement(0, 0, new QCPLayoutElement(p));
  cell->addElement(0, 1, p->legend);
  cell->addElement(0, 2, new QCPLayoutElement(p));
  cell->setColumnStretchFactors({1.0, 0.001, 1.0});
  p->legend->setLayer("legend");
  p->legend->setVisible(true);
  p->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  p->legend->setWrap(6);
  p->legend->setBorderPen(Qt::NoPen);
  p->plotLayout()->setRowStretchFactor(0, 0.001);
  p->plotLayout()->setRowStretchFactor(2, 0.001);
  return fig;
}

QCPAxisRect* add_panel(Figure& fig, int column, const QString& y_label, const QString& title) {
  QCustomPlot* p = fig.plot.get();
  auto* rect = new QCPAxisRect(p);
  fig.panels->addElement(0, column, new QCPTextElement(p, title, p->font()));
  fig.panels->addElement(1, column, rect);
  fig.panels->setRowStretchFactor(0, 0.001);
  rect->axis(QCPAxis::atBottom)->setLabel("step");
  rect->axis(QCPAxis::atLeft)->setLabel(y_label);
  for (auto* a : rect->axes()) a->grid()->setPen(QPen(QColor(200, 200, 200), 0, Qt::DotLine));
  return rect;
}

QCPGraph* add_graph(QCustomPlot* p, QCPAxisRect* rect, const std::vector<double>& x,
                    const std::vector<double>& y) {
  auto* g = p->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  QVector<double> gx, gy;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (std::isfinite(y[i])) {
      gx.push_back(x[i]);
      gy.push_back(y[i]);
    }
  g->setData(gx, gy, true);
  return g;
}

void rescale(QCustomPlot* p) {
  for (auto* rect : p->axisRects()) {
    for (auto* a : rect->axes()) a->rescale(true);
    auto* y = rect->axis(QCPAxis::atLeft);
    if (y->range().size() > 0) y->scaleRange(1.08, y->range().center());
  }
}

QString save(QCustomPlot* p, const QString& dir, const QString& name,
             std::vector<QString>& written) {
  p->replot();
  const QString png = QDir(dir).filePath(name + ".png"), svg = QDir(dir).filePath(name + ".svg");
  for (const QString& file : {png, svg}) {
    QString error;
    if (!save_plots_image({p}, file, &error)) throw DataError("--figures: " + error.toStdString());
    written.push_back(file);
  }
  return png;
}

QString plural(size_t n, const char* what) {
  return QString::number(n) + " " + what + (n == 1 ? "" : "s");
}

void curves_figure(const std::vector<std::unique_ptr<RunModel>>& runs, const FigureOptions& o,
                   const QString& dir, std::vector<QString>& written) {
  std::map<std::string, std::vector<const RunModel*>> by_variant;
  for (const auto& m : runs) by_variant[m->variant()].push_back(m.get());
  const RunInfo& info = runs.front()->info();
  Figure fig =
      new_figure(o, QString("%1 · %2 preset · %3 steps")
                        .arg(QString::fromStdString(info.task), QString::fromStdString(info.preset))
                        .arg(info.total_steps));
  QCustomPlot* p = fig.plot.get();
  const QString band_text = o.min_max ? "band: min–max over seeds" : "band: ± 1 std over seeds";
  auto* loss = add_panel(fig, 0, "training loss",
                         QString("training loss (EMA %1 per seed), mean · %2")
                             .arg(o.smoothing, 0, 'g', 3)
                             .arg(band_text));
  const QString metric = QString::fromStdString(info.metric_name);
  auto* metric_rect = add_panel(
      fig, 1, metric,
      QString("%1 on the evaluation split (%2), mean · %3")
          .arg(metric, info.metric_higher_is_better ? "higher is better" : "lower is better",
               band_text));
  const BandKind kind = o.min_max ? BandKind::MinMax : BandKind::StdDev;
  // Every band first, then every mean line over them: no band veils another's line.
  struct Curve {
    QCPAxisRect* rect;
    Band band;
    QColor colour;
    QString name;
    bool eval;
  };
  std::vector<Curve> curves;
  for (const auto& [variant, models] : by_variant) {
    std::vector<Trace> smoothed;
    smoothed.reserve(models.size());
    for (const RunModel* m : models)
      smoothed.push_back(with_values(m->train_loss, ema(m->train_loss, o.smoothing)));
    std::vector<const Trace*> loss_traces, eval_traces;
    for (const auto& t : smoothed) loss_traces.push_back(&t);
    for (const RunModel* m : models) eval_traces.push_back(&m->eval_metric);
    const QString name = QString::fromStdString(variant) + " · " + plural(models.size(), "seed");
    const QColor c = optimizer_color(variant);
    curves.push_back({loss, band(loss_traces, kind), c, name, false});
    curves.push_back({metric_rect, band(eval_traces, kind), c, name, true});
  }
  for (const Curve& cv : curves) {
    auto* lo = add_graph(p, cv.rect, cv.band.steps, cv.band.lo);
    auto* hi = add_graph(p, cv.rect, cv.band.steps, cv.band.hi);
    QColor fill = cv.colour;
    fill.setAlpha(60);
    lo->setPen(Qt::NoPen);
    hi->setPen(Qt::NoPen);
    hi->setBrush(fill);
    hi->setChannelFillGraph(lo);
    lo->removeFromLegend();
    hi->removeFromLegend();
  }
  for (const Curve& cv : curves) {
    auto* mean = add_graph(p, cv.rect, cv.band.steps, cv.band.mean);
    mean->setPen(QPen(cv.colour, 2));
    mean->setName(cv.name);
    if (cv.eval) {
      mean->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
      mean->removeFromLegend();  // one entry per variant
    }
  }
  rescale(p);
  save(p, dir, "curves", written);
}

void modulation_figure(const RunModel& m, const FigureOptions& o, const QString& dir,
                       std::vector<QString>& written) {
  const auto& info = m.info();
  Figure fig = new_figure(
      o, QString("%1 · %2 · seed %3 · %4 design · a snapshot every %5 steps")
             .arg(QString::fromStdString(info.task), QString::fromStdString(info.optimizer))
             .arg(info.seed)
             .arg(QString::fromStdString(info.modulator_design))
             .arg(info.snapshot_every));
  QCustomPlot* p = fig.plot.get();
  p->legend->setWrap(std::max<int>(4, static_cast<int>(std::ceil(m.groups() / 3.0))));
  const char* names[] = {"α — learning-rate factor", "β — weight-decay factor"};
  for (int k : {factor::alpha, factor::beta}) {
    auto* rect = add_panel(fig, k, factor::kSymbols[k], QString("%1 per group").arg(names[k]));
    for (int64_t g = 0; g < m.groups(); ++g) {
      const Trace& t = m.factors[static_cast<size_t>(g)][static_cast<size_t>(k)];
      auto* graph = add_graph(p, rect, t.steps(), t.values());
      graph->setPen(QPen(group_color(static_cast<int>(g)), 1.5));
      graph->setName(QString::fromStdString(info.group_names[static_cast<size_t>(g)]));
      if (k == 1) graph->removeFromLegend();
    }
  }
  rescale(p);
  save(p, dir, "modulation", written);
}

}  // namespace

std::vector<QString> write_figures(const QStringList& inputs, const QString& dir,
                                   const FigureOptions& options) {
  const auto runs = load_runs(log_files(inputs));
  if (runs.empty()) throw DataError("--figures: no run logs given");
  if (!QDir().mkpath(dir)) throw DataError("--figures: cannot create '" + dir.toStdString() + "'");
  std::vector<QString> written;
  curves_figure(runs, options, dir, written);
  const RunModel* first = nullptr;
  for (const auto& m : runs)
    if (m->metaadamw() && m->groups() > 0 && (!first || m->info().seed < first->info().seed))
      first = m.get();
  if (first) modulation_figure(*first, options, dir, written);
  return written;
}

}  // namespace maw::ui
