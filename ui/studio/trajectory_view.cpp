// Trajectory: the runs' paths on their plane and their distance from the initialization.
#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QMouseEvent>
#include <QProgressBar>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

#include "model/contours.h"
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
  line_ = make_plot(this, "loss");
  line_->xAxis->setLabel("a: (1 − a)·θ_this + a·θ_other");
  line_->setMinimumHeight(120);

  // The probes after a run: a landscape, a line to another run; progress and Cancel.
  grid_ = new QSpinBox;
  grid_->setRange(3, 101);
  grid_->setValue(25);
  grid_->setPrefix("grid ");
  grid_->setSuffix(" ²");
  grid_->setToolTip(
      "Points a side of the landscape's grid (a 25 × 25 grid is 625 evaluations "
      "of the fixed batch)");
  width_ = new QDoubleSpinBox;
  width_->setDecimals(4);
  width_->setRange(0, 1000);
  width_->setSingleStep(0.1);
  width_->setSpecialValueText("± path's extent");
  width_->setPrefix("± ");
  width_->setToolTip(
      "The grid's half-width in units of the directions (0: the path's extent "
      "around the centre, × 1.25; 1: Li et al.'s basin scale)");
  around_ = new QComboBox;
  around_->addItems({"around its end", "around the clicked point"});
  around_->setToolTip(
      "Click on the plane of directions 1 and 2 to choose a point (the "
      "landscape's plane passes through the run's end)");
  compute_ = new QPushButton("Compute landscape");
  other_ = new QComboBox;
  other_->setToolTip("The run whose final parameters the line goes to (runs of the same model)");
  interpolate_ = new QPushButton("Interpolate");
  progress_ = new QProgressBar;
  progress_->setMaximumWidth(180);
  progress_->setVisible(false);
  cancel_ = new QPushButton("Cancel");
  cancel_->setVisible(false);
  note_ = new QLabel;
  note_->setWordWrap(true);
  note_->setVisible(false);
  progress_timer_ = new QTimer(this);
  progress_timer_->setInterval(150);
  connect(progress_timer_, &QTimer::timeout, this, [this] {
    const auto [done, total] = studio_.probe_progress();
    progress_->setMaximum(static_cast<int>(std::max<int64_t>(total, 1)));
    progress_->setValue(static_cast<int>(done));
    progress_->setFormat(QString("%1 of %2").arg(done).arg(total));
  });
  connect(compute_, &QPushButton::clicked, this, &TrajectoryView::compute_landscape);
  connect(interpolate_, &QPushButton::clicked, this, &TrajectoryView::interpolate);
  connect(cancel_, &QPushButton::clicked, this, [this] { studio_.cancel_probe(); });
  connect(&studio_, &Studio::state_changed, this, &TrajectoryView::sync_probes);
  connect(&studio_, &Studio::probe_finished, this, [this](const QString& err) {
    say(err.isEmpty()        ? QString()
        : err == "cancelled" ? "Cancelled: nothing stored."
                             : "Probe failed: " + err);
    refresh();
  });
  // A click (not a drag) on the plane of directions 1, 2 chooses the landscape's centre.
  connect(plane_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) { press_ = e->pos(); });
  connect(plane_, &QCustomPlot::mouseRelease, this, [this](QMouseEvent* e) {
    if ((e->pos() - press_).manhattanLength() > 3 || e->button() != Qt::LeftButton) return;
    if (x_dir_->value() != 1 || y_dir_->value() != 2) {
      say("A landscape lies on the plane of directions 1 and 2: show it to choose a "
          "point.");
      return;
    }
    set_clicked_point(plane_->xAxis->pixelToCoord(e->pos().x()),
                      plane_->yAxis->pixelToCoord(e->pos().y()));
  });

  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(x_dir_);
  top->addWidget(y_dir_);
  top->addStretch();
  auto* probes = new QHBoxLayout;
  probes->addWidget(grid_);
  probes->addWidget(width_);
  probes->addWidget(around_);
  probes->addWidget(compute_);
  probes->addSpacing(12);
  probes->addWidget(new QLabel("line to"));
  probes->addWidget(other_, 1);
  probes->addWidget(interpolate_);
  probes->addWidget(progress_);
  probes->addWidget(cancel_);
  auto* right = new QSplitter(Qt::Vertical);
  right->addWidget(distance_);
  right->addWidget(line_);
  right->setChildrenCollapsible(false);
  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(plane_);
  split->addWidget(right);
  split->setChildrenCollapsible(false);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addLayout(probes);
  v->addWidget(note_);
  v->addWidget(caption_);
  v->addWidget(split, 1);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  for (auto* s : {x_dir_, y_dir_})
    connect(s, qOverload<int>(&QSpinBox::valueChanged), this, [this] { refresh(); });
  sync_probes();
}

void TrajectoryView::say(const QString& text) {
  note_->setText(text);
  note_->setVisible(!text.isEmpty());
}

void TrajectoryView::set_clicked_point(double x, double y) {
  has_click_ = true;
  click_x_ = x;
  click_y_ = y;
  around_->setCurrentIndex(1);
  around_->setItemText(1, QString("around (%1, %2)").arg(x, 0, 'g', 4).arg(y, 0, 'g', 4));
  mark_clicked();
  plane_->replot(QCustomPlot::rpQueuedReplot);
}

void TrajectoryView::mark_clicked() {
  for (int i = plane_->itemCount() - 1; i >= 0; --i)
    if (plane_->item(i)->objectName() == "clicked") plane_->removeItem(i);
  if (!has_click_ || x_dir_->value() != 1 || y_dir_->value() != 2) return;
  auto* plus = new QCPItemTracer(plane_);
  plus->setObjectName("clicked");
  plus->position->setCoords(click_x_, click_y_);
  plus->setStyle(QCPItemTracer::tsPlus);
  plus->setSize(16);
  plus->setPen(QPen(palette().color(QPalette::WindowText), 2));
}

void TrajectoryView::sync_probes() {
  const int r = run_->run();
  QString why;
  const bool busy = studio_.probing();
  const bool can = !busy && studio_.probeable(r, &why);
  compute_->setEnabled(can);
  compute_->setToolTip(can ? "The loss on the fixed evaluation batch over the grid, in the "
                             "plane of directions 1 and 2 through the run's end; stored in "
                             "its log"
                           : "Not now: " + why);
  // The line's other end: every other run of the same model that can be probed.
  const int keep = other_->currentData().toInt();
  {
    QSignalBlocker b(other_);
    other_->clear();
    if (r >= 0) {
      const RunModel& shown = *studio_.runs()[static_cast<size_t>(r)];
      for (int i = 0; i < static_cast<int>(studio_.runs().size()); ++i) {
        const RunModel& m = *studio_.runs()[static_cast<size_t>(i)];
        if (i == r || m.info().task != shown.info().task ||
            m.info().num_parameters != shown.info().num_parameters)
          continue;
        other_->addItem(run_name(m), i);
      }
    }
    const int at = other_->findData(keep);
    if (at >= 0) other_->setCurrentIndex(at);
  }
  QString other_why;
  const bool line =
      can && other_->count() > 0 && studio_.probeable(other_->currentData().toInt(), &other_why);
  interpolate_->setEnabled(line);
  interpolate_->setToolTip(line ? "The loss along the line between the two runs' final "
                                  "parameters, a from −0.5 to 1.5; stored in both logs"
                                : "Not now: " + (!can              ? why
                                                 : other_->count() ? other_why
                                                                   : QString("no other run of "
                                                                             "this model")));
  progress_->setVisible(busy);
  cancel_->setVisible(busy);
  if (busy && !progress_timer_->isActive()) progress_timer_->start();
  if (!busy) progress_timer_->stop();
}

void TrajectoryView::compute_landscape() {
  LandscapeRequest req;
  req.grid = grid_->value();
  req.half_width = width_->value();
  req.at_end = around_->currentIndex() == 0 || !has_click_;
  req.center_x = click_x_;
  req.center_y = click_y_;
  QString why;
  if (!studio_.probe_landscape(run_->run(), req, &why)) {
    say("Cannot compute a landscape now: " + why);
    return;
  }
  say(QString("Computing the landscape: %1 evaluations of the fixed batch on the "
              "engine thread…")
          .arg(req.grid * req.grid));
}

void TrajectoryView::interpolate() {
  QString why;
  if (!studio_.probe_interpolation(run_->run(), other_->currentData().toInt(), 41, &why)) {
    say("Cannot interpolate now: " + why);
    return;
  }
  say("Interpolating: 41 evaluations of the fixed batch on the engine thread…");
}

// The shown run's line to another run's final parameters, with both ends marked.
void TrajectoryView::draw_line(const RunModel* shown) {
  line_->clearGraphs();
  line_->clearItems();
  if (!shown || !shown->interpolation) {
    set_note(line_, shown ? "no line yet: choose a run and Interpolate" : "");
    line_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  set_note(line_, "");
  const auto& l = *shown->interpolation;
  auto* g = line_->addGraph();
  g->setPen(QPen(run_color(*shown), 2));
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
  g->setName(QString("loss: %1 → %2").arg(run_name(*shown), QString::fromStdString(l.other)));
  QVector<double> x, y;
  for (size_t i = 0; i < l.alpha.size() && i < l.loss.size(); ++i) {
    x << l.alpha[i];
    y << l.loss[i];
  }
  g->setData(x, y, true);
  for (const auto& [a, text] : {std::make_pair(0.0, QString("this run")),
                                std::make_pair(1.0, QString::fromStdString(l.other))}) {
    auto* mark = new QCPItemStraightLine(line_);
    mark->point1->setCoords(a, 0);
    mark->point2->setCoords(a, 1);
    mark->setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DashLine));
    auto* label = new QCPItemText(line_);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(a, 0.02);
    label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignTop);
    label->setText(text);
    label->setColor(palette().color(QPalette::WindowText));
  }
  line_->legend->setVisible(false);
  line_->rescaleAxes();
  line_->yAxis->scaleRange(1.1, line_->yAxis->range().center());
  line_->replot(QCustomPlot::rpQueuedReplot);
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
  contours_ = 0;
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
    draw_line(shown);
    sync_probes();
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
      // Its contours: iso-lines at the loss's deciles, under the paths.
      const double x0 = l.center_x - l.half_width, x1 = l.center_x + l.half_width;
      const double y0 = l.center_y - l.half_width, y1 = l.center_y + l.half_width;
      constexpr double nan = std::numeric_limits<double>::quiet_NaN();
      for (const double level : contour_levels(l.loss, 9)) {
        QVector<double> t, x, y;
        for (const auto& seg : contour_segments(l.loss, n, n, level, x0, x1, y0, y1)) {
          for (int k = 0; k < 3; ++k) t << t.size();
          x << seg.x1 << seg.x2 << nan;  // a gap after each piece
          y << seg.y1 << seg.y2 << nan;
        }
        if (x.isEmpty()) continue;
        auto* iso = new QCPCurve(plane_->xAxis, plane_->yAxis);
        iso->setData(t, x, y, true);
        iso->setPen(QPen(QColor(255, 255, 255, 150), 1.0));
        iso->setName(QString("loss = %1").arg(level, 0, 'g', 5));
        iso->removeFromLegend();
        iso->setProperty("csv_skip", true);
        ++contours_;
      }
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
    // Its points coloured by step: the run's colour from light (early) to dark (late).
    constexpr int kShades = 6;
    for (int k = 0; k < kShades; ++k) {
      QVector<double> st, sx, sy;
      for (int i = 0; i < x.size(); ++i)
        if (i * kShades / x.size() == k) {
          st << t[i];
          sx << x[i];
          sy << y[i];
        }
      if (st.isEmpty()) continue;
      const double f = static_cast<double>(k) / (kShades - 1);
      const QColor early = color.lighter(170), late = color.darker(150);
      const QColor shade = QColor::fromRgbF(early.redF() + f * (late.redF() - early.redF()),
                                            early.greenF() + f * (late.greenF() - early.greenF()),
                                            early.blueF() + f * (late.blueF() - early.blueF()));
      auto* dots = new QCPCurve(plane_->xAxis, plane_->yAxis);
      dots->setLineStyle(QCPCurve::lsNone);
      dots->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, shade, 5));
      dots->setData(st, sx, sy, true);
      dots->removeFromLegend();
      dots->setProperty("csv_skip", true);
    }
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
  caption_->setText(
      QString("Paths of θ − θ₀ on two of %1 random filter-normalized directions (the "
              "seed's: ○ start, □ end, a dot per %2 steps, from light to dark with the step)%3.")
          .arg(K)
          .arg(shown->info().snapshot_every)
          .arg(elsewhere.isEmpty()
                   ? QString()
                   : "; on other planes (another seed), not drawn: " + elsewhere.join(", ")) +
      (landscape_ ? QString(" Under them: %1's loss on %2 evaluation examples on "
                            "the plane through its end point, a %3 × %3 grid "
                            "around (%4, %5).")
                        .arg(run_name(*shown))
                        .arg(shown->landscape->examples)
                        .arg(landscape_->data()->keySize())
                        .arg(shown->landscape->center_x, 0, 'g', 4)
                        .arg(shown->landscape->center_y, 0, 'g', 4)
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
  draw_line(shown);
  sync_probes();
  mark_clicked();
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
