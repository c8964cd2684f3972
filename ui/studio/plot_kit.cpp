#include "studio/plot_kit.h"

#include <QSignalBlocker>
#include <iterator>
#include <limits>

#include "studio/step_range.h"

#include <qcustomplot.h>
#include <QBoxLayout>
#include <QCheckBox>
#include <QFileInfo>
#include <QLabel>
#include <QSlider>
#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "model/run_model.h"
#include "model/trace.h"

namespace maw::ui {

namespace {

// Log ticks that label a range of under two decades too: QCustomPlot's log ticker falls
// back to linear ticks there (0.2, 0.4, … over 0.02 … 0.9), which leave the lower decade
// without a label. Here such a range gets 1, 2, 5 × 10^k; one narrower than that (fewer
// than three of those in it) is nearly linear and gets the linear ticks.
class LogTicker : public QCPAxisTickerLog {
 protected:
  QVector<double> createTickVector(double step, const QCPRange& r) override {
    narrow_ = false;
    if (!(r.lower > 0 && r.upper > r.lower) || std::log10(r.upper / r.lower) >= 1.6)
      return QCPAxisTickerLog::createTickVector(step, r);
    QVector<double> ticks;
    int inside = 0;
    for (double d = std::pow(10.0, std::floor(std::log10(r.lower))); d <= r.upper; d *= 10)
      for (double m : {1.0, 2.0, 5.0}) {
        ticks << m * d;
        inside += r.contains(m * d);
      }
    if (inside < 3) return QCPAxisTicker::createTickVector(step, r);
    narrow_ = true;
    return ticks;
  }
  int getSubTickCount(double step) override {
    return narrow_ ? 0 : QCPAxisTickerLog::getSubTickCount(step);
  }

 private:
  bool narrow_ = false;
};

}  // namespace

// Axes in the desktop palette's colours (light or dark).
void follow_palette(const QPalette& pal, std::initializer_list<QCPAxis*> axes) {
  for (QCPAxis* a : axes) {
    a->setBasePen(QPen(pal.text(), 1));
    a->setTickPen(QPen(pal.text(), 1));
    a->setSubTickPen(QPen(pal.text(), 1));
    a->setTickLabelColor(pal.text().color());
    a->setLabelColor(pal.text().color());
    a->grid()->setPen(QPen(pal.mid(), 0, Qt::DotLine));
  }
}

QColor optimizer_color(const std::string& optimizer) {
  if (optimizer == "adamw") return QColor(31, 119, 180);                  // blue
  if (optimizer == "metaadamw (paper)") return QColor(148, 103, 189);     // purple
  if (optimizer.rfind("metaadamw", 0) == 0) return QColor(230, 110, 10);  // orange
  if (optimizer == "torch_adamw") return QColor(44, 160, 44);             // green
  return QColor(127, 127, 127);
}

QColor run_color(const RunModel& m) {
  const QColor c = optimizer_color(m.variant());
  const int k = m.start() - 1;  // 0 for the first Start and for logs
  if (k <= 0) return c;
  return k % 2 ? c.darker(150 + 25 * (k / 2)) : c.lighter(140 + 20 * (k / 2));
}

QColor group_color(int group) {
  static const QColor palette[] = {
      {31, 119, 180},  {255, 127, 14},  {44, 160, 44},   {214, 39, 40},
      {148, 103, 189}, {140, 86, 75},   {227, 119, 194}, {127, 127, 127},
      {188, 189, 34},  {23, 190, 207},  {174, 199, 232}, {255, 187, 120},
      {152, 223, 138}, {255, 152, 150}, {197, 176, 213}, {196, 156, 148}};
  const int n = static_cast<int>(sizeof palette / sizeof palette[0]);
  QColor c = palette[group % n];
  if (group >= n) c = c.darker(100 + 40 * (group / n));  // more groups than colours
  return c;
}

// Dense graphs draw with 1-pixel pens and no antialiasing: Qt strokes wider or
// antialiased polylines of thousands of points 100–1000× slower (BENCHMARKS.md: 8 × 15 000
// points take 10 ms per replot this way, 9 s with 2-pixel antialiased pens).
void thin_if_dense(QCPGraph* g) {
  if (g->dataCount() <= 2000) return;
  QPen pen = g->pen();
  pen.setWidthF(1.0);
  g->setPen(pen);
  g->setAntialiased(false);
}

// Copies a trace into a graph (non-finite values skipped: log axes, NaN terms).
void set_graph(QCPGraph* g, const Trace& t, bool wall, const std::vector<double>* values) {
  const auto& xs = wall ? t.walls() : t.steps();
  const auto& ys = values ? *values : t.values();
  QVector<double> x, y, raw;
  x.reserve(static_cast<int>(xs.size()));
  y.reserve(static_cast<int>(xs.size()));
  for (size_t i = 0; i < xs.size() && i < ys.size(); ++i)
    if (std::isfinite(ys[i])) {
      x.push_back(xs[i]);
      y.push_back(ys[i]);
      if (values) raw.push_back(i < t.values().size() ? t.values()[i] : NAN);
    }
  g->setData(x, y, true);
  // A smoothed line keeps its raw values for the CSV export (studio/export.h).
  g->setProperty("raw_y", values ? QVariant::fromValue(raw) : QVariant());
  thin_if_dense(g);
}

QCustomPlot* make_plot(QWidget* parent, const QString& y_label, bool legend_outside) {
  auto* p = new QCustomPlot(parent);
  if (legend_outside) {  // many groups: a column of names beside the plot, not over it
    auto* cell = new QCPLayoutGrid;
    p->plotLayout()->addElement(0, 1, cell);
    p->plotLayout()->setColumnStretchFactor(1, 0.001);
    cell->addElement(0, 0, p->legend);
    cell->addElement(1, 0, new QCPLayoutElement(p));  // pushes the legend to the top
    cell->setRowStretchFactor(0, 0.001);
    cell->setMargins(QMargins(0, 0, 2, 0));  // the legend's right border inside the widget
  }
  p->yAxis->setNumberPrecision(8);  // factors can differ in the 7th digit
  p->setMinimumHeight(110);         // the studio fits a 1366×768 screen
  p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  p->axisRect()->setRangeDrag(Qt::Horizontal);
  p->axisRect()->setRangeZoom(Qt::Horizontal);
  p->yAxis->setLabel(y_label);
  p->xAxis->setLabel("step");
  p->legend->setVisible(true);
  QFont f = p->legend->font();
  f.setPointSizeF(f.pointSizeF() * 0.85);
  p->legend->setFont(f);
  p->setNoAntialiasingOnDrag(true);
  // y follows the x range the user zooms or drags to (the visible runs' values there).
  QObject::connect(p->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), p,
                   [p] { refit_y(p); });
  // The legend: a click hides or shows a run (its lines by name, the faint raw trace too),
  // a double-click shows it alone (again: all). Kept by name across redraws.
  QObject::connect(p, &QCustomPlot::legendClick, p,
                   [p](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
                     auto* pi = qobject_cast<QCPPlottableLegendItem*>(item);
                     if (!pi) return;
                     QStringList hidden = p->property("hidden_names").toStringList();
                     const QString name = pi->plottable()->name();
                     if (!hidden.removeAll(name)) hidden << name;
                     p->setProperty("hidden_names", hidden);
                     refit_y(p);
                     p->replot();
                   });
  QObject::connect(p, &QCustomPlot::legendDoubleClick, p,
                   [p](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
                     auto* pi = qobject_cast<QCPPlottableLegendItem*>(item);
                     if (!pi) return;
                     QStringList others;
                     for (int i = 0; i < p->graphCount(); ++i)
                       if (p->graph(i)->name() != pi->plottable()->name() &&
                           !others.contains(p->graph(i)->name()))
                         others << p->graph(i)->name();
                     const bool alone = p->property("hidden_names").toStringList() == others;
                     p->setProperty("hidden_names", alone ? QStringList() : others);
                     refit_y(p);
                     p->replot();
                   });
  QObject::connect(p, &QCustomPlot::beforeReplot, p, [p] {
    apply_hidden(p);
    // As many ticks as the plot's size leaves room for: a narrow plot of a long run wrote
    // "500100015002000025003000" (labels of 5 digits need ~60 px each).
    const int w = p->axisRect()->width(), h = p->axisRect()->height();
    if (w > 0) p->xAxis->ticker()->setTickCount(std::clamp(w / 90, 2, 10));
    if (h > 0) p->yAxis->ticker()->setTickCount(std::clamp(h / 40, 2, 8));
  });
  // Follow the desktop palette (light or dark).
  const QPalette pal = p->palette();
  QColor legend_bg = pal.base().color();
  legend_bg.setAlpha(210);
  p->legend->setBrush(legend_bg);
  p->legend->setBorderPen(QPen(pal.mid().color()));
  p->legend->setTextColor(pal.text().color());
  p->setBackground(pal.base());
  follow_palette(pal, {p->xAxis, p->yAxis});
  return p;
}

namespace {

// The plot's item named `name` of type T, made by `make` when missing.
template <class T, class Make>
T* named_item(QCustomPlot* p, const QString& name, Make make) {
  for (int i = 0; i < p->itemCount(); ++i)
    if (p->item(i)->objectName() == name)
      if (auto* t = qobject_cast<T*>(p->item(i))) return t;
  T* t = make();
  t->setObjectName(name);
  return t;
}

}  // namespace

void link_hover(QCustomPlot* p, StepRange& range, std::function<bool()> x_is_step) {
  p->setMouseTracking(true);
  QObject::connect(p, &QCustomPlot::mouseMove, p, [p, &range, x_is_step](QMouseEvent* e) {
    if (x_is_step && !x_is_step()) return;
    const bool inside = p->axisRect()->rect().contains(e->pos());
    range.hover(inside ? std::round(p->xAxis->pixelToCoord(e->pos().x()))
                       : std::numeric_limits<double>::quiet_NaN());
  });
  auto draw = [p, x_is_step](double step) {
    auto* line = named_item<QCPItemStraightLine>(p, "crosshair", [p] {
      auto* l = new QCPItemStraightLine(p);
      l->setPen(QPen(p->palette().color(QPalette::Text), 1, Qt::DotLine));
      l->setSelectable(false);
      return l;
    });
    auto* text = named_item<QCPItemText>(p, "readout", [p] {
      auto* t = new QCPItemText(p);
      t->position->setType(QCPItemPosition::ptAxisRectRatio);
      t->position->setCoords(0.01, 0.02);
      t->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
      t->setTextAlignment(Qt::AlignLeft);
      QColor bg = p->palette().base().color();
      bg.setAlpha(220);
      t->setBrush(bg);
      t->setPen(QPen(p->palette().mid().color()));
      t->setPadding(QMargins(4, 2, 4, 2));
      t->setSelectable(false);
      t->setLayer("overlay");  // above the legend
      return t;
    });
    const bool show = std::isfinite(step) && (!x_is_step || x_is_step());
    line->setVisible(show);
    text->setVisible(show);
    if (show) {
      line->point1->setCoords(step, 0);
      line->point2->setCoords(step, 1);
      QStringList lines{QString("step %1").arg(step, 0, 'f', 0)};
      QStringList seen;
      for (int i = 0; i < p->graphCount() && lines.size() <= 12; ++i) {
        QCPGraph* g = p->graph(i);
        if (!g->visible() || g->name().isEmpty() || !p->legend->itemWithPlottable(g) ||
            seen.contains(g->name()) || g->data()->isEmpty())
          continue;
        auto it = g->data()->findBegin(step, false);
        if (it == g->data()->constEnd()) --it;
        if (it != g->data()->constBegin() &&
            std::abs(std::prev(it)->key - step) < std::abs(it->key - step))
          --it;
        seen << g->name();
        lines << QString("%1: %2").arg(g->name(), format_number(it->value, 'g', 5));
      }
      text->setText(lines.join("\n"));
    }
    p->replot(QCustomPlot::rpQueuedReplot);
  };
  QObject::connect(&range, &StepRange::hovered, p, draw);
}

void apply_hidden(QCustomPlot* p) {
  const QStringList hidden = p->property("hidden_names").toStringList();
  const QColor shown = p->legend->textColor();
  QColor faded = shown;
  faded.setAlpha(90);
  for (int i = 0; i < p->graphCount(); ++i) {
    QCPGraph* g = p->graph(i);
    const bool hide = !g->name().isEmpty() && hidden.contains(g->name());
    g->setVisible(!hide);
    if (auto* item = p->legend->itemWithPlottable(g)) item->setTextColor(hide ? faded : shown);
  }
}

// Linear or logarithmic y (log ticks: 1, 10, 100 … with sub-ticks; 1, 2, 5 × 10^k over
// less than two decades).
void set_log_y(QCustomPlot* p, bool log) {
  if ((p->yAxis->scaleType() == QCPAxis::stLogarithmic) == log) return;
  p->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (log)
    p->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new LogTicker));
  else
    p->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
}

// A one-line explanation above a plot's axes (a smaller font, the palette's text colour).
void add_title(QCustomPlot* p, const QString& text) {
  p->plotLayout()->insertRow(0);
  p->plotLayout()->setRowStretchFactor(0, 0.001);
  QFont f = p->font();
  f.setPointSizeF(f.pointSizeF() * 0.9);
  auto* title = new QCPTextElement(p, text, f);
  title->setTextColor(p->palette().text().color());
  title->setMargins(QMargins(0, 2, 0, 0));
  p->plotLayout()->addElement(0, 0, title);
}

QString run_label(const RunModel& m) {
  return run_name(m) + " (" + QString::fromStdString(m.status()) + ")";
}

QString run_name(const RunModel& m) {
  const auto& i = m.info();
  QString s = QString::fromStdString(i.optimizer);
  if (!i.modulator_design.empty()) s += " (" + QString::fromStdString(i.modulator_design) + ")";
  s += " · seed " + QString::number(i.seed);
  if (m.start() > 1) s += " · #" + QString::number(m.start());
  if (m.id().rfind("live:", 0) != 0)
    s += " — " + QFileInfo(QString::fromStdString(m.id())).fileName();
  return s;
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
bool fit_y(QCustomPlot* p, double lo, double hi) {
  QCPRange all;
  bool any = false;
  const auto sign = p->yAxis->scaleType() == QCPAxis::stLogarithmic ? QCP::sdPositive : QCP::sdBoth;
  for (int i = 0; i < p->graphCount(); ++i) {
    if (!p->graph(i)->visible()) continue;  // a run hidden from the legend
    bool found = false;
    const QCPRange r = p->graph(i)->getValueRange(found, sign, QCPRange(lo, hi));
    if (!found) continue;
    all = any ? QCPRange(std::min(all.lower, r.lower), std::max(all.upper, r.upper)) : r;
    any = true;
  }
  if (any && all.size() == 0) {  // one value (α = 1 before the first meta-update): around it
    const double m = std::max(0.05 * std::abs(all.lower), 1e-9);
    all = QCPRange(all.lower - m, all.upper + m);
  }
  if (any) p->yAxis->setRange(all);  // (QCustomPlot ignores a range of size 0)
  return any;
}

void range_to(QCustomPlot* p, double lo, double hi) {
  QSignalBlocker b(p->xAxis);  // y is fitted once, below
  if (hi > lo)
    p->xAxis->setRange(lo, hi);
  else
    p->rescaleAxes(true);
  refit_y(p);
}

void refit_y(QCustomPlot* p) {
  const QCPRange x = p->xAxis->range();
  if (!fit_y(p, x.lower, x.upper)) return;  // no visible data there: y stays
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

std::pair<double, double> centred_bar(double value, double span) {
  if (!std::isfinite(value) || value <= 0 || !(span > 0)) return {0.0, 0.0};
  const double x = 0.5 + 0.5 * std::clamp(std::log(value) / span, -1.0, 1.0);
  return {std::min(0.5, x), std::max(0.5, x)};
}

bool NumberItem::operator<(const QTableWidgetItem& other) const {
  const double a = data(Qt::UserRole).toDouble(), b = other.data(Qt::UserRole).toDouble();
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

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

QSlider* make_smoothing_slider(const QString& tooltip, int initial) {
  auto* s = new QSlider(Qt::Horizontal);
  s->setRange(0, 99);
  s->setValue(initial);
  s->setMinimumWidth(70);
  s->setMaximumWidth(140);
  s->setToolTip(tooltip);
  return s;
}

void add_y_controls(QBoxLayout* row, QCheckBox* log_y, QSlider* smoothing, QLabel* value) {
  row->addWidget(log_y);
  row->addWidget(new QLabel("smoothing"));
  row->addWidget(smoothing);
  row->addWidget(value);
}

}  // namespace maw::ui
