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

namespace {

QString run_label(const RunModel& m) {
  const auto& i = m.info();
  QString s = QString::fromStdString(i.optimizer);
  if (!i.modulator_design.empty()) s += " (" + QString::fromStdString(i.modulator_design) + ")";
  s += " · seed " + QString::number(i.seed);
  if (m.id().rfind("live:", 0) != 0)
    s += " — " + QFileInfo(QString::fromStdString(m.id())).fileName();
  return s + " (" + QString::fromStdString(m.status()) + ")";
}

// y at x on a polyline whose xs increase (clamped at the ends): maps steps to wall time
// and back for the selection when Curves plots against wall time.
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  if (xs.empty() || ys.size() != xs.size()) return x;
  if (x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  const auto it = std::upper_bound(xs.begin(), xs.end(), x);
  const auto i = static_cast<size_t>(it - xs.begin());
  const double x0 = xs[i - 1], x1 = xs[i];
  return x1 > x0 ? ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0) : ys[i];
}

// Fits y to what the graphs hold between lo and hi (a selected step range filters the
// view: values outside it do not stretch the axis).
void fit_y(QCustomPlot* p, double lo, double hi) {
  QCPRange all;
  bool any = false;
  const auto sign = p->yAxis->scaleType() == QCPAxis::stLogarithmic ? QCP::sdPositive : QCP::sdBoth;
  for (int i = 0; i < p->graphCount(); ++i) {
    bool found = false;
    const QCPRange r = p->graph(i)->getValueRange(found, sign, QCPRange(lo, hi));
    if (!found) continue;
    all = any ? QCPRange(std::min(all.lower, r.lower), std::max(all.upper, r.upper)) : r;
    any = true;
  }
  if (any) p->yAxis->setRange(all);
}

void range_to(QCustomPlot* p, double lo, double hi) {
  if (hi > lo) {
    p->xAxis->setRange(lo, hi);
    fit_y(p, lo, hi);
  } else {
    p->rescaleAxes(true);
  }
  auto r = p->yAxis->range();
  const bool log = p->yAxis->scaleType() == QCPAxis::stLogarithmic;
  if (log && r.lower > 0) {  // a margin of 5% of the decades (at least a factor 1.2)
    const double f = std::max(1.2, std::pow(r.upper / r.lower, 0.05));
    p->yAxis->setRange(r.lower / f, r.upper * f);
  } else if (r.size() == 0) {
    p->yAxis->setRange(r.lower - 0.5, r.upper + 0.5);
  } else if (!log) {
    p->yAxis->scaleRange(1.08, r.center());
  }
}

// A grey message in the middle of an empty plot ("not in this log"); "" hides it.
void set_note(QCustomPlot* p, const QString& text) {
  QCPItemText* note = nullptr;
  for (int i = 0; i < p->itemCount() && !note; ++i)
    if (p->item(i)->objectName() == "note") note = qobject_cast<QCPItemText*>(p->item(i));
  if (!note) {
    if (text.isEmpty()) return;
    note = new QCPItemText(p);
    note->setObjectName("note");
    note->position->setType(QCPItemPosition::ptAxisRectRatio);
    note->position->setCoords(0.5, 0.5);
    note->setColor(p->palette().color(QPalette::Disabled, QPalette::Text));
    note->setSelectable(false);
  }
  note->setText(text);
  note->setVisible(!text.isEmpty());
}

// A log-y graph whose finite values are all 0 draws nothing: its legend entry says so.
void name_if_zero(QCPGraph* g, const Trace& t) {
  const bool zero =
      g->dataCount() > 0 && std::none_of(t.values().begin(), t.values().end(),
                                         [](double v) { return std::isfinite(v) && v != 0; });
  if (zero) g->setName(g->name() + " = 0");
}

bool has_data(const QCustomPlot* p) {
  for (int i = 0; i < p->graphCount(); ++i)
    if (p->graph(i)->dataCount() > 0) return true;
  return false;
}

// A table cell that sorts by a number (its display text is formatted); NaN sorts last.
class NumberItem : public QTableWidgetItem {
 public:
  NumberItem(const QString& text, double key) : QTableWidgetItem(text) {
    setData(Qt::UserRole, key);
  }
  bool operator<(const QTableWidgetItem& other) const override {
    const double a = data(Qt::UserRole).toDouble(), b = other.data(Qt::UserRole).toDouble();
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
    return a < b;
  }
};

QString format_number(double v, char format, int precision) {
  return std::isfinite(v) ? QString::number(v, format, precision) : QString("–");
}

// The run's modulator design and factor ranges, for captions (rich text).
QString design_text(const RunModel& m) {
  const auto& i = m.info();
  if (!m.metaadamw()) return QString("%1: no modulation").arg(QString::fromStdString(i.optimizer));
  if (i.modulator_design.empty()) return "modulator design not recorded (a log before schema v2)";
  QString s = "<b>" + QString::fromStdString(i.modulator_design).toHtmlEscaped() + "</b> design";
  auto range = [](double r) {
    return QString("[%1, %2]").arg(1 - r / 2, 0, 'g', 4).arg(1 + r / 2, 0, 'g', 4);
  };
  const bool a = std::isfinite(i.alpha_range) && i.alpha_range > 0;
  const bool b = std::isfinite(i.beta_range) && i.beta_range > 0;
  if (a && b && i.alpha_range == i.beta_range) return s + " · α, β ∈ " + range(i.alpha_range);
  if (a) s += " · α ∈ " + range(i.alpha_range);
  if (b) s += " · β ∈ " + range(i.beta_range);
  return s;
}

}  // namespace

RunPicker::RunPicker(QWidget* parent) : QComboBox(parent) {
  setSizeAdjustPolicy(QComboBox::AdjustToContents);
  connect(this, &QComboBox::activated, this, [this] { picked_ = true; });  // the user's choice
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
  if (have == ids) {
    for (int i = 0; i < count(); ++i)
      if (itemText(i) != labels[i]) setItemText(i, labels[i]);
    return;
  }
  const QString keep = currentData().toString();
  QSignalBlocker block(this);
  clear();
  for (int i = 0; i < ids.size(); ++i) addItem(labels[i], ids[i]);
  int at = picked_ ? findData(keep) : -1;
  if (at < 0) {  // prefer the first MetaAdamW run: it has modulation to show
    for (size_t i = 0; i < studio.runs().size() && at < 0; ++i)
      if (studio.runs()[i]->info().optimizer == "metaadamw") at = static_cast<int>(i);
  }
  setCurrentIndex(std::max(0, at));
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
  top->addWidget(selection_label_);
  top->addWidget(clear_selection_);
  connect(clear_selection_, &QToolButton::clicked, this, [this] { clear_selection(); });
  auto* esc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  esc->setContext(Qt::WidgetWithChildrenShortcut);
  connect(esc, &QShortcut::activated, this, [this] { clear_selection(); });
  loss_ = make_plot(this, "training loss");
  metric_ = make_plot(this, "eval metric");
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
  v->addWidget(loss_, 3);
  v->addWidget(metric_, 2);
  for (auto* w : {static_cast<QWidget*>(x_axis_), static_cast<QWidget*>(seeds_)})
    connect(qobject_cast<QComboBox*>(w), &QComboBox::currentIndexChanged, this,
            [this] { refresh(); });
  connect(log_y_, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(follow_, &QCheckBox::toggled, this, [this] { refresh(); });
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
              if (x_axis_->currentIndex() == 0 && sel_hi_ <= sel_lo_)
                emit step_range_changed(r.lower, r.upper);
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
  if (hi > lo) {
    lo = std::max(0.0, std::floor(lo));
    hi = std::ceil(hi);
  }
  if (hi <= lo) lo = hi = 0;
  if (lo == sel_lo_ && hi == sel_hi_) return;
  sel_lo_ = lo;
  sel_hi_ = hi;
  show_selection();
  if (hi > lo) {
    emit step_range_changed(lo, hi);
  } else if (follow_->isChecked() || x_axis_->currentIndex() == 1) {
    emit step_range_changed(0, 0);
  } else {
    const auto r = loss_->xAxis->range();
    emit step_range_changed(r.lower, r.upper);
  }
}

void CurvesView::show_selection() {
  const bool on = sel_hi_ > sel_lo_;
  selection_label_->setText(on ? QString("steps %1–%2")
                                     .arg(QLocale().toString(static_cast<qlonglong>(sel_lo_)),
                                          QLocale().toString(static_cast<qlonglong>(sel_hi_)))
                               : QString());
  selection_label_->setVisible(on);
  clear_selection_->setVisible(on);
  double a = sel_lo_, b = sel_hi_;
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
  std::map<std::string, std::vector<const RunModel*>> by_opt;
  for (const auto& m : studio_.runs()) {
    by_opt[m->variant()].push_back(m.get());
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
        const QColor c = optimizer_color(opt);
        const QString name = QString::fromStdString(m->label());
        if (!eval && s > 0) {
          auto* raw = p->addGraph();
          QColor faint = c;
          faint.setAlpha(55);
          raw->setPen(QPen(faint, 1));
          raw->removeFromLegend();
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
      const QColor c = optimizer_color(opt);
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
  if (sel_hi_ > sel_lo_) show_selection();  // the x axis or (wall time) the clock moved
  plot(loss_, false);
  plot(metric_, true);
}

// ---- Modulation and features ----

GroupPlotView::GroupPlotView(Studio& studio, Kind kind, QWidget* parent)
    : QWidget(parent), studio_(studio), kind_(kind) {
  const bool modulation = kind == Kind::Modulation;
  run_ = new RunPicker;
  quantity_ = new QComboBox;
  quantity_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // features arrive with a run
  if (modulation)
    quantity_->addItems({"α — learning-rate factor", "β — weight-decay factor", "λ1", "λ2",
                         "effective learning rate (η·α)", "effective weight decay (λ·β)"});
  log_y_ = new QCheckBox("log y");
  smoothing_ = new QSlider(Qt::Horizontal);
  smoothing_->setRange(0, 99);
  smoothing_->setValue(0);
  smoothing_->setMinimumWidth(70);
  smoothing_->setMaximumWidth(140);
  smoothing_->setToolTip(
      "EMA smoothing of every group's line (bias-corrected, as in Curves); 0: the raw values");
  smoothing_label_ = new QLabel;
  // Modulation's table names the groups in their lines' colours: no legend there.
  plot_ = make_plot(this, modulation ? "α" : "feature", /*legend_outside=*/!modulation);
  if (modulation) {
    plot_->setToolTip(
        "Each group's colour: its name in the table. α and β (linear y): the axis always shows "
        "1, AdamW's step; dashed: the bounds of the design's range");
    QPen dashed(palette().text().color(), 1, Qt::DashLine);
    for (auto** line : {&bound_lo_, &bound_hi_}) {
      *line = new QCPItemStraightLine(plot_);
      (*line)->setPen(dashed);
      (*line)->setLayer("grid");  // under the groups' lines
      (*line)->setVisible(false);
    }
  }

  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(quantity_);
  auto* controls = modulation ? new QHBoxLayout : top;  // narrow dock: a second row
  controls->addWidget(log_y_);
  controls->addWidget(new QLabel("smoothing"));
  controls->addWidget(smoothing_);
  controls->addWidget(smoothing_label_);
  controls->addStretch();
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  if (!modulation) {
    v->addWidget(plot_, 1);
  } else {
    top->addStretch();
    v->addLayout(controls);

    summary_caption_ = new QLabel;
    summary_caption_->setWordWrap(true);
    summary_caption_->setTextFormat(Qt::RichText);
    summary_ = new QTableWidget(0, kColumns);
    // The answer first (group, ratio), then the means it comes from.
    summary_->setHorizontalHeaderLabels({"group", "η·α ÷ AdamW η", "α", "β", "η·α", "λ·β"});
    const char* tips[kColumns] = {
        "Parameter group, coloured as its line in the plot (sorting this column restores the "
        "groups' order, shallow to deep)",
        "Mean effective learning rate over the mean learning rate AdamW used at the same steps "
        "(an AdamW run of the same task open in the studio), else over this run's own η: "
        "> 1 means this group learned faster than with AdamW",
        "Mean learning-rate factor α over the snapshots in the range",
        "Mean weight-decay factor β over the snapshots in the range",
        "Mean effective learning rate η·α",
        "Mean effective weight decay λ·β"};
    for (int c = 0; c < kColumns; ++c) summary_->horizontalHeaderItem(c)->setToolTip(tips[c]);
    summary_->verticalHeader()->hide();
    summary_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
    summary_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    summary_->setSelectionBehavior(QAbstractItemView::SelectRows);
    summary_->setAlternatingRowColors(true);
    summary_->setWordWrap(false);
    summary_->setTextElideMode(Qt::ElideMiddle);  // long module paths keep both ends
    auto* header = summary_->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setMaximumSectionSize(280);
    header->setStretchLastSection(true);
    header->setSortIndicator(kGroup, Qt::AscendingOrder);
    summary_->setSortingEnabled(true);
    auto* table = new QWidget;
    auto* tv = new QVBoxLayout(table);
    tv->setContentsMargins(0, 0, 0, 0);
    tv->addWidget(summary_caption_);
    tv->addWidget(summary_, 1);
    split_ = new QSplitter(Qt::Vertical);
    split_->addWidget(plot_);
    split_->addWidget(table);
    split_->setStretchFactor(0, 3);
    split_->setStretchFactor(1, 2);
    split_->setSizes({300, 200});  // scaled to the dock's size when it is laid out
    split_->setChildrenCollapsible(false);
    table->setMinimumHeight(80);
    v->addWidget(split_, 1);
  }
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  connect(quantity_, &QComboBox::currentIndexChanged, this, [this](int q) {
    if (kind_ == Kind::Modulation) {  // rates span decades, factors do not
      QSignalBlocker b(log_y_);
      log_y_->setChecked(q >= 4);
    }
    refresh();
  });
  connect(log_y_, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(smoothing_, &QSlider::valueChanged, this, [this] { refresh(); });
}

void GroupPlotView::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  // The table beside the plot in a wide dock, below it in a tall one.
  if (split_)
    split_->setOrientation(width() > 900 && width() > 2 * height() ? Qt::Horizontal : Qt::Vertical);
}

void GroupPlotView::fit() {
  range_to(plot_, lo_, hi_);
  if (!bound_lo_) return;
  bound_lo_->setVisible(false);
  bound_hi_->setVisible(false);
  const int r = run_->run();
  const int q = quantity_->currentIndex();
  if (r < 0 || q > 1 || log_y_->isChecked() || plot_->graphCount() == 0) return;
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  // 1 in view: how far from AdamW's step a factor is reads from the axis, and a factor at
  // its bound is a flat line there, not motion in the 7th digit filling the plot.
  const QCPRange y = plot_->yAxis->range();
  if (!y.contains(1.0)) {
    const double lo = std::min(y.lower, 1.0), hi = std::max(y.upper, 1.0);
    plot_->yAxis->setRange(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
  }
  const double range = q == 0 ? m.info().alpha_range : m.info().beta_range;
  if (!(std::isfinite(range) && range > 0)) return;
  const QCPRange shown = plot_->yAxis->range();
  // A named array, not an initializer_list of make_pair temporaries (GCC 14 flags those
  // as -Wdangling-reference).
  const std::pair<QCPItemStraightLine*, double> bounds[] = {{bound_lo_, 1 - range / 2},
                                                            {bound_hi_, 1 + range / 2}};
  for (const auto& [line, at] : bounds) {
    line->point1->setCoords(0, at);
    line->point2->setCoords(1, at);
    line->setVisible(shown.contains(at));
  }
}

void GroupPlotView::set_step_range(double lo, double hi) {
  lo_ = lo;
  hi_ = hi;
  fit();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  if (summary_) {
    const int r = run_->run();
    if (r >= 0) fill_summary(*studio_.runs()[static_cast<size_t>(r)]);
  }
}

void GroupPlotView::refresh() {
  run_->sync(studio_);
  plot_->clearGraphs();
  const double smoothing = smoothing_->value() / 100.0;
  smoothing_label_->setText(QString::number(smoothing, 'f', 2));
  const int r = run_->run();
  if (r < 0) {
    if (summary_) summary_->setRowCount(0);
    for (auto* line : {bound_lo_, bound_hi_})
      if (line) line->setVisible(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  if (kind_ == Kind::Features) {  // the feature list is the run's
    QStringList names;
    for (const auto& f : m.info().feature_names) names << QString::fromStdString(f);
    QStringList have;
    for (int i = 0; i < quantity_->count(); ++i) have << quantity_->itemText(i);
    if (names != have) {
      QSignalBlocker b(quantity_);
      const QString keep = quantity_->currentText();
      quantity_->clear();
      quantity_->addItems(names);
      quantity_->setCurrentIndex(std::max(0, quantity_->findText(keep)));
    }
  }
  const int q = quantity_->currentIndex();
  plot_->yAxis->setLabel(quantity_->currentText().section(" — ", 0, 0) +
                         (smoothing > 0 ? " (smoothed)" : ""));
  const auto& names = m.info().group_names;
  for (size_t g = 0; g < names.size(); ++g) {
    const Trace* t = nullptr;
    if (kind_ == Kind::Modulation) {
      if (q < 4 && g < m.factors.size())
        t = &m.factors[g][static_cast<size_t>(q)];
      else if (q == 4 && g < m.effective_lr.size())
        t = &m.effective_lr[g];
      else if (q == 5 && g < m.effective_wd.size())
        t = &m.effective_wd[g];
    } else if (q >= 0 && g < m.features.size() && static_cast<size_t>(q) < m.features[g].size()) {
      t = &m.features[g][static_cast<size_t>(q)];
    }
    if (!t) continue;
    auto* gr = plot_->addGraph();
    gr->setPen(QPen(group_color(static_cast<int>(g)), 1.5));
    gr->setName(QString::fromStdString(names[g]));
    if (smoothing > 0) {
      const auto smooth = ema(*t, smoothing);
      set_graph(gr, *t, false, &smooth);
    } else {
      set_graph(gr, *t, false);
    }
  }
  plot_->legend->setVisible(kind_ == Kind::Features && names.size() <= 16);
  if (!m.metaadamw()) {
    plot_->yAxis->setLabel("(no modulation: " + QString::fromStdString(m.info().optimizer) + ")");
  }
  set_log_y(plot_, log_y_->isChecked());
  fit();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  if (summary_) fill_summary(m);
}

const RunModel* GroupPlotView::reference_run(const RunModel& m) const {
  const RunModel* best = nullptr;
  int best_score = -1;
  for (const auto& run : studio_.runs()) {
    const auto& i = run->info();
    if (run.get() == &m || (i.optimizer != "adamw" && i.optimizer != "torch_adamw") ||
        run->lr.empty() || i.task != m.info().task || i.preset != m.info().preset)
      continue;
    const int score = (i.seed == m.info().seed ? 2 : 0) + (i.optimizer == "adamw" ? 1 : 0);
    if (score > best_score) {
      best = run.get();
      best_score = score;
    }
  }
  return best;
}

void GroupPlotView::fill_summary(const RunModel& m) {
  const RunModel* ref = m.metaadamw() ? reference_run(m) : nullptr;
  const auto means = group_means(m, lo_, hi_, ref ? &ref->lr : nullptr);
  const auto& names = m.info().group_names;
  summary_->setSortingEnabled(false);  // filled in group order, sorted again below
  summary_->setRowCount(m.metaadamw() ? static_cast<int>(means.size()) : 0);
  summary_->horizontalHeaderItem(kLrRatio)->setText(ref ? "η·α ÷ AdamW η" : "η·α ÷ own η");
  for (int g = 0; g < summary_->rowCount(); ++g) {
    const auto& mean = means[static_cast<size_t>(g)];
    const QString name = g < static_cast<int>(names.size())
                             ? QString::fromStdString(names[static_cast<size_t>(g)])
                             : QString::number(g);
    auto* group = new NumberItem(name, g);  // sorts in the groups' order
    group->setForeground(group_color(g));
    group->setToolTip(name);
    summary_->setItem(g, kGroup, group);
    const std::pair<Column, QString> cells[] = {
        {kAlpha, format_number(mean.alpha, 'f', 4)},
        {kBeta, format_number(mean.beta, 'f', 4)},
        {kEffectiveLr, format_number(mean.effective_lr, 'e', 3)},
        {kEffectiveWd, format_number(mean.effective_wd, 'e', 3)},
        {kLrRatio, std::isfinite(mean.lr_ratio) ? QString::number(mean.lr_ratio, 'f', 3) + "×"
                                                : QString("–")}};
    const double keys[] = {mean.alpha, mean.beta, mean.effective_lr, mean.effective_wd,
                           mean.lr_ratio};
    for (size_t c = 0; c < std::size(cells); ++c) {
      auto* item = new NumberItem(cells[c].second, keys[c]);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      summary_->setItem(g, cells[c].first, item);
    }
  }
  summary_->setSortingEnabled(true);

  if (!m.metaadamw()) {
    summary_caption_->setText(
        "No per-group factors: " + QString::fromStdString(m.info().optimizer) +
        " runs are not modulated.");
    return;
  }
  const size_t snapshots = means.empty() ? 0 : means.front().snapshots;
  const QString range = hi_ > lo_
                            ? QString("steps %1–%2")
                                  .arg(QLocale().toString(static_cast<qlonglong>(std::ceil(lo_))),
                                       QLocale().toString(static_cast<qlonglong>(std::floor(hi_))))
                            : QString("the whole run");
  QString text = design_text(m) + QString(" · means over %1 (%2 snapshot%3) · ratio to ")
                                      .arg(range)
                                      .arg(snapshots)
                                      .arg(snapshots == 1 ? "" : "s");
  text += ref ? "AdamW's η (" + QString::fromStdString(ref->label()) + ")"
              : QString("this run's own η");
  summary_caption_->setToolTip(
      ref ? QString()
          : QString("No AdamW run of this task and preset is open: open or start one to compare "
                    "the effective learning rates with AdamW's"));
  summary_caption_->setText(text + ".");
}

// ---- Attention ----

AttentionView::AttentionView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  run_ = new RunPicker;
  layer_ = new QSpinBox;
  head_ = new QSpinBox;
  layer_->setPrefix("layer ");
  head_->setPrefix("head ");
  step_ = new QSlider(Qt::Horizontal);
  step_->setMinimumWidth(120);
  follow_ = new QCheckBox("follow live");
  follow_->setChecked(true);
  step_label_ = new QLabel("no attention maps yet");
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(220, 170);
  map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  scale_ = new QCPColorScale(plot_);
  plot_->plotLayout()->addElement(0, 1, scale_);
  scale_->setLabel("attention weight");
  map_->setColorScale(scale_);
  map_->setGradient(QCPColorGradient::gpThermal);
  map_->setInterpolate(false);
  plot_->yAxis->setRangeReversed(true);  // query group 0 at the top, like a matrix
  plot_->xAxis->setLabel("key group (attended to)");
  plot_->yAxis->setLabel("query group");
  plot_->setBackground(plot_->palette().base());
  follow_palette(plot_->palette(), {plot_->xAxis, plot_->yAxis, scale_->axis()});
  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(layer_);
  top->addWidget(head_);
  top->addWidget(follow_);
  top->addStretch();
  auto* mid = new QHBoxLayout;
  mid->addWidget(step_, 1);
  mid->addWidget(step_label_);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addLayout(mid);
  v->addWidget(plot_, 1);
  for (auto* s : {layer_, head_})
    connect(s, qOverload<int>(&QSpinBox::valueChanged), this, [this] { refresh(); });
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  connect(step_, &QSlider::sliderMoved, this, [this] {
    follow_->setChecked(false);
    refresh();
  });
  connect(step_, &QSlider::valueChanged, this, [this] { refresh(); });
  connect(follow_, &QCheckBox::toggled, this, [this] { refresh(); });
}

int AttentionView::map_size() const {
  return shown_groups_;
}

int64_t AttentionView::shown_step() const {
  const int r = run_->run();
  if (r < 0 || shown_groups_ == 0) return -1;
  const auto& steps = studio_.runs()[static_cast<size_t>(r)]->attention.steps();
  const auto i = static_cast<size_t>(step_->value());
  return i < steps.size() ? steps[i] : -1;
}

void AttentionView::set_step_range(double lo, double hi) {
  lo_ = lo;
  hi_ = hi;
  refresh();
}

// The maps the scrubber reaches: all, or those inside the selected step range (the nearest
// one when none falls inside).
std::pair<int, int> AttentionView::reachable(const AttentionMaps& maps) const {
  const int n = static_cast<int>(maps.size());
  if (n == 0 || hi_ <= lo_) return {0, std::max(0, n - 1)};
  const auto& steps = maps.steps();
  int first = -1, last = -1;
  for (int i = 0; i < n; ++i)
    if (steps[static_cast<size_t>(i)] >= lo_ && steps[static_cast<size_t>(i)] <= hi_) {
      if (first < 0) first = i;
      last = i;
    }
  if (first < 0) {
    const auto i = static_cast<int>(maps.nearest(static_cast<int64_t>(0.5 * (lo_ + hi_))));
    return {std::max(0, i), std::max(0, i)};
  }
  return {first, last};
}

void AttentionView::refresh() {
  run_->sync(studio_);
  const int r = run_->run();
  if (r < 0) return;
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  const auto& maps = m.attention;
  {
    QSignalBlocker b1(layer_), b2(head_), b3(step_);
    layer_->setRange(0, std::max<int>(0, static_cast<int>(maps.layers()) - 1));
    head_->setRange(0, std::max<int>(0, static_cast<int>(maps.heads()) - 1));
    const auto [first, last] = reachable(maps);
    step_->setRange(first, last);
    if (follow_->isChecked()) step_->setValue(step_->maximum());
  }
  const auto G = static_cast<int>(maps.groups());
  const auto data = maps.map(static_cast<size_t>(step_->value()), layer_->value(), head_->value());
  if (data.empty() || G == 0) {
    step_label_->setText(m.metaadamw() ? "no attention maps yet (attention_every)"
                                       : "no attention: not a MetaAdamW run");
    map_->data()->clear();
    shown_groups_ = 0;
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  step_label_->setText(QString("step %1  (%2 of %3 maps held%4)")
                           .arg(maps.steps()[static_cast<size_t>(step_->value())])
                           .arg(step_->value() + 1)
                           .arg(maps.size())
                           .arg(hi_ > lo_ ? QString("; %1 in the selected range")
                                                .arg(step_->maximum() - step_->minimum() + 1)
                                          : QString()));
  map_->data()->setSize(G, G);
  map_->data()->setRange(QCPRange(0, G - 1), QCPRange(0, G - 1));
  float hi = 0.0f;
  for (int q = 0; q < G; ++q)
    for (int k = 0; k < G; ++k) {
      const float v = data[static_cast<size_t>(q * G + k)];
      map_->data()->setCell(k, q, v);
      hi = std::max(hi, v);
    }
  map_->setDataRange(QCPRange(0, std::max(1e-6f, hi)));
  if (shown_groups_ != G) {
    // Group names on both axes (shortened; the Groups panel has the full names).
    auto ticker_x = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    auto ticker_y = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const auto& names = m.info().group_names;
    for (int g = 0; g < G; ++g) {
      QString n = g < static_cast<int>(names.size())
                      ? QString::fromStdString(names[static_cast<size_t>(g)])
                      : QString::number(g);
      if (n.size() > 22) n = n.left(10) + "…" + n.right(10);
      ticker_x->addTick(g, n);
      ticker_y->addTick(g, n);
    }
    plot_->xAxis->setTicker(ticker_x);
    plot_->yAxis->setTicker(ticker_y);
    plot_->xAxis->setTickLabelRotation(60);
    QFont f = plot_->xAxis->tickLabelFont();
    f.setPointSizeF(G > 24 ? 6.5 : 8);
    plot_->xAxis->setTickLabelFont(f);
    plot_->yAxis->setTickLabelFont(f);
    plot_->xAxis->setRange(-0.5, G - 0.5);
    plot_->yAxis->setRange(-0.5, G - 0.5);
    shown_groups_ = G;
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

// ---- Meta ----

MetaView::MetaView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  run_ = new RunPicker;
  summary_ = new QLabel;
  summary_->setTextFormat(Qt::RichText);
  // Page 1: the meta-objective. Page 2: how the meta-learning goes.
  // Three plots side by side in a low dock: legends beside the plots, not over the points.
  terms_ = make_plot(this, "terms", /*legend_outside=*/true);
  weights_ = make_plot(this, "HUW weight w", /*legend_outside=*/true);
  log_vars_ = make_plot(this, "HUW log-variance s", /*legend_outside=*/true);
  grad_norm_ = make_plot(this, "L2 norm", /*legend_outside=*/true);
  rel_change_ = make_plot(this, "‖Δθ‖ / ‖θ‖", /*legend_outside=*/true);
  at_bound_ = make_plot(this, "fraction at a bound", /*legend_outside=*/true);
  add_title(grad_norm_, "meta-gradient norm per block of meta-parameters");
  add_title(rel_change_, "relative change of the modulator per meta-update");
  add_title(at_bound_, "fraction of groups within 1e-3 of a bound: 1 = saturated");
  for (auto* p : {grad_norm_, rel_change_}) set_log_y(p, true);
  // The modulator's line is drawn over its parts' (the encoder's often equals it).
  rel_change_->addLayer("front", rel_change_->layer("main"), QCustomPlot::limAbove);
  grad_norm_->setToolTip(
      "L2 norm of the meta-gradient for each block of meta-parameters (encoder, the heads of "
      "α, β, λ1, λ2, the feature gates, the per-group parameters, HUW's s), before the "
      "meta-optimizer's step. Blocks the run does not have are not drawn.");
  rel_change_->setToolTip(
      "‖θ after − θ before‖ / ‖θ before‖ of the modulator's parameters at each meta-update: all "
      "of them, the encoder, the head. Near 0: the modulator no longer moves.");
  at_bound_->setToolTip(
      "Fraction of the groups whose α, β, λ1 or λ2 lies within 1e-3 of a bound of its range, as "
      "the meta-update's forward computed it. 1: every group saturated (the factor is stuck at "
      "its limit and its gradient vanishes).");
  auto row = [](std::initializer_list<QCustomPlot*> plots) {
    auto* page = new QWidget;
    auto* h = new QHBoxLayout(page);
    h->setContentsMargins(0, 4, 0, 0);
    for (auto* p : plots) h->addWidget(p, 1);
    return page;
  };
  pages_ = new QTabWidget;
  pages_->setDocumentMode(true);
  pages_->addTab(row({terms_, weights_, log_vars_}), "Meta-objective");
  pages_->addTab(row({grad_norm_, rel_change_, at_bound_}),
                 "Diagnostics: gradient, change, saturation");
  pages_->setTabToolTip(0, "The meta-objective's terms and their uncertainty weighting (HUW)");
  pages_->setTabToolTip(1,
                        "Is the meta-learning working? The meta-gradient per block, how much "
                        "the modulator moves, and whether its factors are stuck at a bound");
  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(summary_, 1);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addWidget(pages_, 1);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
}

void MetaView::fit() {
  for (auto* p : {terms_, weights_, log_vars_, grad_norm_, rel_change_, at_bound_}) {
    range_to(p, lo_, hi_);
    if (p == at_bound_) p->yAxis->setRange(-0.03, 1.03);  // a fraction: always 0 … 1
    p->replot(QCustomPlot::rpQueuedReplot);
  }
}

void MetaView::set_step_range(double lo, double hi) {
  lo_ = lo;
  hi_ = hi;
  fit();
}

void MetaView::refresh() {
  run_->sync(studio_);
  for (auto* p : {terms_, weights_, log_vars_, grad_norm_, rel_change_, at_bound_})
    p->clearGraphs();
  const int r = run_->run();
  const RunModel* run = r >= 0 ? studio_.runs()[static_cast<size_t>(r)].get() : nullptr;
  if (run) {
    const RunModel& m = *run;
    auto add = [](QCustomPlot* p, const Trace& t, const QString& name, int colour,
                  double width = 1.5) {
      auto* g = p->addGraph();
      g->setPen(QPen(group_color(colour), width));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
      g->setName(name);
      set_graph(g, t, false);
      if (g->dataCount() == 0) g->removeFromLegend();
      return g;
    };
    const std::pair<const Trace*, const char*> terms[] = {{&m.l_grad, "L_grad"},
                                                          {&m.l_dec, "L_dec"},
                                                          {&m.l_gap, "L_gap"},
                                                          {&m.meta_total, "total (regularized)"}};
    int k = 0;
    for (const auto& [t, name] : terms) add(terms_, *t, name, k++);
    const char* term[] = {"L_grad", "L_dec", "L_gap"};
    for (size_t i = 0; i < 3; ++i) {
      const int c = static_cast<int>(i);
      add(weights_, m.huw_weights[i], QString("w(%1)").arg(term[i]), c);
      add(log_vars_, m.huw_s[i], QString("s(%1)").arg(term[i]), c);
    }
    // Diagnostics: one line per block / part / factor the run has (NaN: absent).
    for (size_t b = 0; b < m.grad_norm.size(); ++b) {
      const Trace& t = m.grad_norm[b];
      auto* g = add(grad_norm_, t, kMetaGradBlocks[b], static_cast<int>(b));
      if (g->dataCount() == 0)
        grad_norm_->removeGraph(g);
      else
        name_if_zero(g, t);
    }
    for (size_t p = 0; p < m.rel_change.size(); ++p) {
      auto* g = add(rel_change_, m.rel_change[p], kMetaChangeParts[p], static_cast<int>(p),
                    p ? 1.2 : 2.0);
      if (p == 0) g->setLayer("front");
      name_if_zero(g, m.rel_change[p]);
    }
    // Fractions often coincide (all at a bound, or none): each factor's line and points are
    // narrower than the one before, drawn over it, so every factor stays visible.
    const char* factor[] = {"α", "β", "λ1", "λ2"};
    for (size_t f = 0; f < m.at_bound.size(); ++f) {
      const auto n = static_cast<double>(f);
      auto* g = add(at_bound_, m.at_bound[f], factor[f], static_cast<int>(f), 4.0 - 0.9 * n);
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 10.0 - 2.0 * n));
    }

    double ms = 0;
    for (double v : m.meta_ms.values()) ms += v;
    const auto n = m.meta_ms.appended();
    QString text = n ? QString("%1 meta-updates, mean %2 ms each")
                           .arg(n)
                           .arg(ms / static_cast<double>(m.meta_ms.size()), 0, 'f', 1)
                     : QString(m.metaadamw() ? "no meta-update yet (meta_update_freq)"
                                             : "not a MetaAdamW run");
    if (m.metaadamw()) text += " · " + design_text(m);
    summary_->setText(text);
  }
  // Say why a diagnostics plot is empty.
  const bool meta_updates = run && run->meta_ms.appended() > 0;
  const QString absent = !run || !run->metaadamw() ? QString()
                         : !meta_updates           ? QString("no meta-update yet")
                                         : QString("not in this log (written before schema v2)");
  for (auto* p : {grad_norm_, rel_change_, at_bound_})
    set_note(p, has_data(p) ? QString() : absent);
  fit();
}

// ---- Groups ----

GroupsView::GroupsView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  run_ = new RunPicker;
  tree_ = new QTreeWidget;
  tree_->setHeaderLabels({"group / tensor", "parameters", "tensors / shape"});
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  tree_->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
  tree_->headerItem()->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
  tree_->header()->setStretchLastSection(false);
  auto* v = new QVBoxLayout(this);
  v->addWidget(run_);
  v->addWidget(tree_);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] {
    shown_.clear();
    refresh();
  });
}

void GroupsView::refresh() {
  run_->sync(studio_);
  const int r = run_->run();
  if (r < 0) {
    tree_->clear();
    shown_.clear();
    return;
  }
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  const auto& i = m.info();
  const std::string key = m.id() + ":" + std::to_string(i.group_names.size());
  if (key == shown_) return;
  shown_ = key;
  tree_->clear();
  for (size_t g = 0; g < i.group_names.size(); ++g) {
    auto* item = new QTreeWidgetItem(tree_);
    item->setText(0, QString::fromStdString(i.group_names[g]));
    item->setForeground(0, group_color(static_cast<int>(g)));
    if (g < i.group_sizes.size())
      item->setText(1, QLocale().toString(static_cast<qlonglong>(i.group_sizes[g])));
    item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    if (g >= i.group_members.size()) continue;
    const auto& members = i.group_members[g];
    item->setText(2, QString::number(members.size()));
    const auto* shapes = g < i.group_shapes.size() ? &i.group_shapes[g] : nullptr;
    for (size_t t = 0; t < members.size(); ++t) {
      auto* child = new QTreeWidgetItem(item, {QString::fromStdString(members[t])});
      child->setToolTip(0, child->text(0));
      if (!shapes || t >= shapes->size()) continue;  // a log from before shapes were logged
      const std::string& shape = (*shapes)[t];
      qlonglong n = 1;
      if (shape != "()")
        for (const auto& d : split_list(shape, 'x')) n *= std::atoll(d.c_str());
      child->setText(1, QLocale().toString(n));
      child->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
      child->setText(2, QString::fromStdString(shape).replace('x', QChar(0x00D7)));
    }
  }
  // Small models open fully: every tensor and its shape in view at once.
  size_t tensors = 0;
  for (const auto& members : i.group_members) tensors += members.size();
  if (tensors <= 64) tree_->expandAll();
}

}  // namespace maw::ui
