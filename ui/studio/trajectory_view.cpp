// Trajectory: the runs' paths on their plane and their distance from the initialization.
#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QSignalBlocker>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "model/run_model.h"
#include "model/trace.h"
#include "studio/plot_kit.h"
#include "studio/studio.h"
#include "studio/views.h"

namespace maw::ui {

TrajectoryView::TrajectoryView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  connect(&studio_.step_range(), &StepRange::changed, this, [this] { refresh(); });
  connect(&studio_.step_range(), &StepRange::hovered, this, &TrajectoryView::mark_hovered);
  run_ = new RunPicker(studio_);
  run_->setToolTip(
      "The run whose plane is drawn (every run of its seed and initialization "
      "shares it) and whose groups' distances are drawn");
  x_dir_ = new QSpinBox;
  y_dir_ = new QSpinBox;
  x_dir_->setPrefix("x: direction ");
  y_dir_->setPrefix("y: direction ");
  for (auto* s : {x_dir_, y_dir_}) {
    s->setRange(1, 1);
    s->setToolTip("Which of the run's random directions (trajectory_directions) spans this axis");
  }
  caption_ = new QLabel;
  caption_->setWordWrap(true);
  plane_ = make_plot(this, "direction 2");
  plane_->xAxis->setLabel("direction 1");
  plane_->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
  plane_->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
  plane_->setMinimumHeight(160);
  distance_ = make_plot(this, "‖θ − θ₀‖", /*legend_outside=*/true);
  link_hover(distance_, studio_.step_range());
  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(x_dir_);
  top->addWidget(y_dir_);
  top->addStretch();
  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(plane_);
  split->addWidget(distance_);
  split->setChildrenCollapsible(false);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addWidget(caption_);
  v->addWidget(split, 1);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  for (auto* s : {x_dir_, y_dir_})
    connect(s, qOverload<int>(&QSpinBox::valueChanged), this, [this] { refresh(); });
}

int TrajectoryView::landscape_cells() const {
  return landscape_ ? landscape_->data()->keySize() * landscape_->data()->valueSize() : 0;
}

std::vector<std::pair<double, double>> TrajectoryView::path_points(int i) const {
  std::vector<std::pair<double, double>> out;
  if (i < 0 || i >= paths()) return out;
  for (auto it = paths_[i]->data()->constBegin(); it != paths_[i]->data()->constEnd(); ++it)
    out.emplace_back(it->key, it->value);
  return out;
}

void TrajectoryView::refresh() {
  run_->sync(studio_);
  plane_->clearPlottables();
  plane_->clearItems();
  landscape_ = nullptr;
  distance_->clearGraphs();
  paths_.clear();
  path_runs_.clear();
  const int r = run_->run();
  const RunModel* shown = r >= 0 ? studio_.runs()[static_cast<size_t>(r)].get() : nullptr;
  const auto K = shown ? static_cast<int>(shown->path.directions()) : 0;
  {
    QSignalBlocker b1(x_dir_), b2(y_dir_);
    x_dir_->setRange(1, std::max(1, K));
    y_dir_->setRange(1, std::max(1, K));
    x_dir_->setSuffix(QString(" of %1").arg(std::max(1, K)));
    y_dir_->setSuffix(QString(" of %1").arg(std::max(1, K)));
    if (K >= 2 && x_dir_->value() == y_dir_->value()) y_dir_->setValue(x_dir_->value() % K + 1);
  }
  if (!shown || shown->path.size() == 0) {
    caption_->setText(shown ? "No trajectory in this run (a log before run-log schema 4, or "
                              "trajectory_directions = 0)."
                            : QString());
    set_note(plane_, shown ? "no trajectory" : "");
    set_note(distance_, "");
    plane_->replot(QCustomPlot::rpQueuedReplot);
    distance_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  set_note(plane_, "");
  set_note(distance_, "");
  const auto [lo, hi] = studio_.step_range().shown();
  const bool ranged = hi > lo;
  const size_t kx = static_cast<size_t>(x_dir_->value() - 1);
  const size_t ky = static_cast<size_t>(K >= 2 ? y_dir_->value() - 1 : x_dir_->value() - 1);
  plane_->xAxis->setLabel(QString("direction %1 (units of d)").arg(kx + 1));
  plane_->yAxis->setLabel(QString("direction %1").arg(ky + 1));
  // The shown run's end-of-run landscape (directions 1 and 2) under the paths.
  const bool plane12 = kx == 0 && ky == 1;
  if (shown->landscape && plane12) {
    const auto& l = *shown->landscape;
    const auto n = static_cast<int>(std::lround(std::sqrt(static_cast<double>(l.loss.size()))));
    if (n > 0 && static_cast<size_t>(n * n) == l.loss.size()) {
      if (!landscape_scale_) {
        landscape_scale_ = new QCPColorScale(plane_);
        plane_->plotLayout()->addElement(0, plane_->plotLayout()->columnCount(), landscape_scale_);
        landscape_scale_->setLabel("loss");
        landscape_scale_->setGradient(QCPColorGradient::gpThermal);
        follow_palette(plane_->palette(), {landscape_scale_->axis()});
      }
      landscape_ = new QCPColorMap(plane_->xAxis, plane_->yAxis);
      landscape_->setColorScale(landscape_scale_);
      landscape_->setGradient(QCPColorGradient::gpThermal);
      landscape_->setInterpolate(true);
      landscape_->data()->setSize(n, n);
      landscape_->data()->setRange(QCPRange(l.center_x - l.half_width, l.center_x + l.half_width),
                                   QCPRange(l.center_y - l.half_width, l.center_y + l.half_width));
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          landscape_->data()->setCell(j, i, l.loss[static_cast<size_t>(i * n + j)]);
      landscape_->rescaleDataRange(true);
      landscape_->setName("loss landscape");
      landscape_->setProperty("title", "loss landscape");
      landscape_->removeFromLegend();
    }
  }
  if (landscape_scale_) landscape_scale_->setVisible(landscape_ != nullptr);
  // Every run on the shown run's plane: its path, start (○) and end (□).
  QStringList elsewhere;
  for (const auto& m : studio_.runs()) {
    if (m->path.size() == 0) continue;
    if (m->info().trajectory_checksum != shown->info().trajectory_checksum ||
        m->path.directions() != shown->path.directions()) {
      elsewhere << run_name(*m);
      continue;
    }
    auto* c = new QCPCurve(plane_->xAxis, plane_->yAxis);
    c->setName(run_name(*m));
    const QColor color = run_color(*m);
    c->setPen(QPen(color, m.get() == shown ? 2.0 : 1.5));
    c->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 4));
    QVector<double> t, x, y;
    const auto& steps = m->path.steps();
    for (size_t i = 0; i < m->path.size(); ++i) {
      const auto s = static_cast<double>(steps[i]);
      if (ranged && (s < lo || s > hi)) continue;
      t << s;
      x << m->path.at(i, kx);
      y << m->path.at(i, ky);
    }
    c->setData(t, x, y, true);
    paths_.push_back(c);
    path_runs_.push_back(m.get());
    if (x.isEmpty()) continue;
    for (const auto& [at, shape] :
         {std::make_pair(0, QCPScatterStyle::ssCircle),
          std::make_pair(static_cast<int>(x.size()) - 1, QCPScatterStyle::ssSquare)}) {
      auto* mark = new QCPCurve(plane_->xAxis, plane_->yAxis);
      mark->setPen(QPen(color, 2));
      mark->setLineStyle(QCPCurve::lsNone);
      mark->setScatterStyle(QCPScatterStyle(shape, QPen(color, 2), QBrush(Qt::white), 11));
      mark->setData({t[at]}, {x[at]}, {y[at]});
      mark->removeFromLegend();
      mark->setProperty("csv_skip", true);
    }
  }
  plane_->legend->setVisible(true);
  plane_->rescaleAxes();
  for (auto* a : {plane_->xAxis, plane_->yAxis})
    if (a->range().size() > 0) a->scaleRange(1.1, a->range().center());
  apply_hidden(plane_);
  caption_->setText(QString("Paths of θ − θ₀ on two of %1 random filter-normalized directions (the "
                            "seed's: ○ start, □ end, a dot per %2 steps)%3.")
                        .arg(K)
                        .arg(shown->info().snapshot_every)
                        .arg(elsewhere.isEmpty() ? QString()
                                                 : "; on other planes (another seed), not drawn: " +
                                                       elsewhere.join(", ")) +
                    (landscape_ ? QString(" Under them: %1's loss on %2 evaluation examples on "
                                          "the plane through its end point (landscape_grid).")
                                      .arg(run_name(*shown))
                                      .arg(shown->landscape->examples)
                                : QString()));

  // The distance from the initialization: the shown run's groups, every run's overall.
  const auto& names = shown->info().group_names;
  for (size_t g = 0; g < shown->group_distance.size(); ++g) {
    auto* gr = distance_->addGraph();
    gr->setPen(QPen(group_color(static_cast<int>(g)), 1.2));
    gr->setName(g < names.size() ? QString::fromStdString(names[g]) : QString::number(g));
    set_graph(gr, shown->group_distance[g], false);
  }
  for (const auto* m : path_runs_) {
    auto* gr = distance_->addGraph();
    gr->setPen(QPen(run_color(*m), 2.5, m == shown ? Qt::SolidLine : Qt::DashLine));
    gr->setName("all: " + run_name(*m));
    set_graph(gr, m->distance, false);
  }
  set_log_y(distance_, false);
  range_to(distance_, lo, hi);
  apply_hidden(distance_);
  plane_->replot(QCustomPlot::rpQueuedReplot);
  distance_->replot(QCustomPlot::rpQueuedReplot);
  mark_hovered(studio_.step_range().hovered_step());
}

// Each drawn run's point nearest to the hovered step, with its step.
void TrajectoryView::mark_hovered(double step) {
  for (int i = plane_->itemCount() - 1; i >= 0; --i)
    if (plane_->item(i)->objectName() == "hovered") plane_->removeItem(i);
  if (std::isfinite(step))
    for (auto* c : paths_) {
      const auto* data = c->data().data();
      const QCPCurveData* best = nullptr;
      for (auto it = data->constBegin(); it != data->constEnd(); ++it)
        if (!best || std::abs(it->t - step) < std::abs(best->t - step)) best = &*it;
      if (!best) continue;
      auto* dot = new QCPItemTracer(plane_);
      dot->setObjectName("hovered");
      dot->position->setCoords(best->key, best->value);
      dot->setStyle(QCPItemTracer::tsCircle);
      dot->setSize(12);
      dot->setPen(QPen(c->pen().color(), 2));
      auto* label = new QCPItemText(plane_);
      label->setObjectName("hovered");
      label->position->setParentAnchor(dot->position);
      label->position->setCoords(8, -8);
      label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
      label->setText(QString("step %1").arg(best->t));
      label->setColor(c->pen().color());
    }
  plane_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace maw::ui
