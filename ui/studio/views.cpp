// The run picker and the Curves panel (with the step-range selection).
#include "studio/views.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMouseEvent>
#include <QShortcut>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <map>
#include <tuple>

#include "api/run_log_reader.h"
#include "model/run_model.h"
#include "model/trace.h"
#include "studio/studio.h"

namespace maw::ui {

RunPicker::RunPicker(Studio& studio, QWidget* parent) : QComboBox(parent) {
  setSizeAdjustPolicy(QComboBox::AdjustToContents);
  setToolTip("The run this panel shows — one choice for every panel (Studio::shown_run)");
  // The user's choice, for every panel.
  connect(this, &QComboBox::activated, this, [&studio](int index) { studio.pick_run(index); });
}

void RunPicker::sync(const Studio& studio) {
  QStringList labels;
  QStringList ids;
  for (const auto& m : studio.runs()) {
    labels << run_label(*m);
    ids << QString::fromStdString(m->id());
  }
  QStringList have;
  for (int i = 0; i < count(); ++i) have << itemData(i).toString();
  QSignalBlocker block(this);
  if (have == ids) {
    for (int i = 0; i < count(); ++i)
      if (itemText(i) != labels[i]) setItemText(i, labels[i]);
  } else {
    clear();
    for (int i = 0; i < ids.size(); ++i) addItem(labels[i], ids[i]);
  }
  if (currentIndex() != studio.shown_run()) setCurrentIndex(studio.shown_run());
}

int RunPicker::run() const {
  return count() ? currentIndex() : -1;
}

// ---- Curves ----

CurvesView::CurvesView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  auto* top = new QHBoxLayout;
  x_axis_ = new QComboBox;
  x_axis_->addItems({"x: step", "x: wall time"});
  seeds_ = new QComboBox;
  seeds_->addItems({"each run", "seed mean, min–max", "seed mean ± std"});
  seeds_->setToolTip("Runs of several seeds: each on its own, or their mean with a band");
  log_y_ = new QCheckBox("log y");
  follow_ = new QCheckBox("follow");
  follow_->setChecked(true);
  follow_->setToolTip("Rescale as data arrives; zooming or dragging turns it off");
  smoothing_ = new QSlider(Qt::Horizontal);
  smoothing_->setRange(0, 99);
  smoothing_->setValue(60);
  smoothing_->setMinimumWidth(80);
  smoothing_->setMaximumWidth(160);
  smoothing_->setToolTip(
      "EMA smoothing of the training loss (bias-corrected); the raw trace stays faint behind");
  smoothing_label_ = new QLabel;
  top->addWidget(x_axis_);
  top->addWidget(seeds_);
  top->addWidget(log_y_);
  top->addWidget(follow_);
  top->addWidget(new QLabel("smoothing"));
  top->addWidget(smoothing_);
  top->addWidget(smoothing_label_);
  top->addStretch();
  selection_label_ = new QLabel;
  selection_label_->setToolTip(
      "Shift+drag on a plot selects a step range; the other panels show it");
  clear_selection_ = new QToolButton;
  clear_selection_->setText("clear");
  clear_selection_->setToolTip("Show the whole run in every panel (Esc, or double-click a plot)");
  // The selection on a row of its own (shown while there is one): the controls' row is
  // full on a laptop's screen.
  auto* selection_row = new QHBoxLayout;
  selection_row->addWidget(selection_label_);
  selection_row->addWidget(clear_selection_);
  selection_row->addStretch();
  connect(clear_selection_, &QToolButton::clicked, this, [this] { clear_selection(); });
  auto* esc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  esc->setContext(Qt::WidgetWithChildrenShortcut);
  connect(esc, &QShortcut::activated, this, [this] { clear_selection(); });
  loss_ = make_plot(this, "training loss");
  metric_ = make_plot(this, "eval metric");
  for (auto* p : {loss_, metric_})  // the crosshair, with a step axis (not wall time)
    link_hover(p, studio_.step_range(), [this] { return x_axis_->currentIndex() == 0; });
  for (auto* p : {loss_, metric_}) {
    p->installEventFilter(this);
    p->setToolTip("Drag: pan · wheel: zoom · Shift+drag: select a step range for every panel");
    p->selectionRect()->setPen(QPen(palette().highlight().color(), 1, Qt::DashLine));
    QColor fill = palette().highlight().color();
    fill.setAlpha(40);
    p->selectionRect()->setBrush(fill);
    connect(p->selectionRect(), &QCPSelectionRect::accepted, this,
            [this, p](const QRect& rect, QMouseEvent*) {
              double a = p->xAxis->pixelToCoord(rect.left());
              double b = p->xAxis->pixelToCoord(rect.right());
              if (x_axis_->currentIndex() == 1) {  // wall time → steps
                const Trace* t = clock();
                if (!t) return;
                a = interpolate(t->walls(), t->steps(), a);
                b = interpolate(t->walls(), t->steps(), b);
              }
              set_selection(std::min(a, b), std::max(a, b));
            });
    connect(p, &QCustomPlot::mouseDoubleClick, this, [this] { clear_selection(); });
    auto* shade = new QCPItemRect(p);
    shade->setLayer("background");
    shade->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    shade->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    QColor c = palette().highlight().color();
    shade->setPen(QPen(c, 1));
    c.setAlpha(45);
    shade->setBrush(c);
    shade->setSelectable(false);
    shade->setVisible(false);
  }
  show_selection();
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addLayout(selection_row);
  v->addWidget(loss_, 3);
  v->addWidget(metric_, 2);
  for (auto* w : {static_cast<QWidget*>(x_axis_), static_cast<QWidget*>(seeds_)})
    connect(qobject_cast<QComboBox*>(w), &QComboBox::currentIndexChanged, this,
            [this] { refresh(); });
  connect(log_y_, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(follow_, &QCheckBox::toggled, this, [this] {
    refresh();
    update_view();
  });
  connect(x_axis_, &QComboBox::currentIndexChanged, this, [this] { update_view(); });
  connect(&studio_.step_range(), &StepRange::selection_changed, this, [this] { show_selection(); });
  connect(smoothing_, &QSlider::valueChanged, this, [this] { refresh(); });
  // A user's zoom or drag on either plot: both follow, and so do the other panels.
  for (auto* p : {loss_, metric_}) {
    connect(p->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this, p](const QCPRange& r) {
              QCustomPlot* other = p == loss_ ? metric_ : loss_;
              {
                QSignalBlocker b(other->xAxis);
                other->xAxis->setRange(r);
                other->replot(QCustomPlot::rpQueuedReplot);
              }
              if (follow_->isChecked()) {
                QSignalBlocker b(follow_);
                follow_->setChecked(false);
              }
              update_view();
            });
  }
}

bool CurvesView::eventFilter(QObject* watched, QEvent* event) {
  // Shift+drag selects a step range; a plain drag pans. QCustomPlot decides at the press.
  if (event->type() == QEvent::MouseButtonPress)
    if (auto* p = qobject_cast<QCustomPlot*>(watched)) {
      const auto* e = static_cast<QMouseEvent*>(event);
      p->setSelectionRectMode((e->modifiers() & Qt::ShiftModifier) ? QCP::srmCustom : QCP::srmNone);
    }
  return QWidget::eventFilter(watched, event);
}

const Trace* CurvesView::clock() const {
  for (const auto& m : studio_.runs())
    if (m->train_loss.size() >= 2) return &m->train_loss;
  return nullptr;
}

void CurvesView::set_selection(double lo, double hi) {
  studio_.step_range().select(lo, hi);
}

std::pair<double, double> CurvesView::selection() const {
  return studio_.step_range().selection();
}

void CurvesView::update_view() {
  if (x_axis_->currentIndex() == 0 && !follow_->isChecked()) {
    const auto r = loss_->xAxis->range();
    studio_.step_range().set_view(r.lower, r.upper);
  } else {
    studio_.step_range().set_view(0, 0);  // following the run, or wall time: the whole run
  }
}

void CurvesView::show_selection() {
  const auto [sel_lo, sel_hi] = selection();
  const bool on = sel_hi > sel_lo;
  selection_label_->setText(on ? QString("selected: steps %1–%2 (every panel shows them)")
                                     .arg(QLocale().toString(static_cast<qlonglong>(sel_lo)),
                                          QLocale().toString(static_cast<qlonglong>(sel_hi)))
                               : QString());
  selection_label_->setVisible(on);
  clear_selection_->setVisible(on);
  double a = sel_lo, b = sel_hi;
  if (on && x_axis_->currentIndex() == 1) {  // steps → wall time
    const Trace* t = clock();
    a = t ? interpolate(t->steps(), t->walls(), a) : 0;
    b = t ? interpolate(t->steps(), t->walls(), b) : 0;
  }
  for (auto* p : {loss_, metric_}) {
    auto* shade = qobject_cast<QCPItemRect*>(p->item(0));
    if (!shade) continue;
    shade->setVisible(on && b > a);
    shade->topLeft->setCoords(a, 0);
    shade->bottomRight->setCoords(b, 1);
    p->replot(QCustomPlot::rpQueuedReplot);
  }
}

int CurvesView::graph_points() const {
  int n = 0;
  for (auto* p : {loss_, metric_})
    for (int i = 0; i < p->graphCount(); ++i) n += p->graph(i)->dataCount();
  return n;
}

void CurvesView::plot(QCustomPlot* p, bool eval) {
  const bool wall = x_axis_->currentIndex() == 1;
  const double s = smoothing_->value() / 100.0;
  p->clearGraphs();
  p->xAxis->setLabel(wall ? "wall time (s)" : "step");
  std::string metric = "eval metric";
  std::map<std::string, std::vector<const RunModel*>> by_opt;  // per series: a Start's variant
  for (const auto& m : studio_.runs()) {
    by_opt[m->series()].push_back(m.get());
    if (eval && !m->info().metric_name.empty())
      metric = "eval " + m->info().metric_name +
               (m->info().metric_higher_is_better ? " (↑ better)" : " (↓ better)");
  }
  p->yAxis->setLabel(eval ? QString::fromStdString(metric) : "training loss");
  auto trace_of = [eval](const RunModel& m) -> const Trace& {
    return eval ? m.eval_metric : m.train_loss;
  };
  if (seeds_->currentIndex() == 0) {
    for (const auto& [opt, runs] : by_opt)
      for (const RunModel* m : runs) {
        const Trace& t = trace_of(*m);
        const QColor c = run_color(*m);
        const QString name = run_name(*m);
        if (!eval && s > 0) {
          auto* raw = p->addGraph();
          QColor faint = c;
          faint.setAlpha(55);
          raw->setPen(QPen(faint, 1));
          raw->setName(name);  // hidden with its run from the legend
          raw->removeFromLegend();
          raw->setProperty("csv_skip", true);  // the smoothed line exports the raw values
          set_graph(raw, t, wall);
          const auto smooth = ema(t, s);
          auto* g = p->addGraph();
          g->setPen(QPen(c, 2));
          g->setName(name);
          set_graph(g, t, wall, &smooth);
        } else {
          auto* g = p->addGraph();
          g->setPen(QPen(c, eval ? 2 : 1.5));
          g->setName(name);
          if (eval) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
          set_graph(g, t, wall);
        }
      }
  } else {
    const auto kind = seeds_->currentIndex() == 1 ? BandKind::MinMax : BandKind::StdDev;
    for (const auto& [opt, runs] : by_opt) {
      std::vector<const Trace*> traces;
      for (const RunModel* m : runs) traces.push_back(&trace_of(*m));
      const Band b = band(traces, kind);
      const QColor c = run_color(*runs.front());
      QVector<double> x(b.steps.begin(), b.steps.end());
      auto add = [&](const std::vector<double>& y) {
        auto* g = p->addGraph();
        g->setData(x, QVector<double>(y.begin(), y.end()), true);
        thin_if_dense(g);
        return g;
      };
      auto* lo = add(b.lo);
      auto* hi = add(b.hi);
      QColor fill = c;
      fill.setAlpha(50);
      lo->setPen(Qt::NoPen);
      hi->setPen(Qt::NoPen);
      hi->setBrush(QBrush(fill));
      hi->setChannelFillGraph(lo);
      lo->removeFromLegend();
      hi->removeFromLegend();
      auto* mean = add(b.mean);
      mean->setPen(QPen(c, 2));
      thin_if_dense(mean);
      mean->setName(QString::fromStdString(opt) + " mean of " + QString::number(runs.size()) +
                    (kind == BandKind::MinMax ? " (band: min–max)" : " (band: ± std)"));
      const QString band_name = QString::fromStdString(opt) +
                                (kind == BandKind::MinMax ? " minimum of " : " mean − std of ");
      lo->setProperty("csv_name", band_name + QString::number(runs.size()));
      hi->setProperty("csv_name",
                      QString::fromStdString(opt) +
                          (kind == BandKind::MinMax ? " maximum of " : " mean + std of ") +
                          QString::number(runs.size()));
      if (eval) mean->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    }
  }
  set_log_y(p, log_y_->isChecked());
  if (follow_->isChecked()) {
    QSignalBlocker b(p->xAxis);
    range_to(p, 0, 0);
  } else {
    p->yAxis->rescale(true);
  }
  p->replot(QCustomPlot::rpQueuedReplot);
}

void CurvesView::refresh() {
  smoothing_label_->setText(QString::number(smoothing_->value() / 100.0, 'f', 2));
  if (studio_.step_range().has_selection()) show_selection();  // the x axis or the clock moved
  plot(loss_, false);
  plot(metric_, true);
}

}  // namespace maw::ui
