// The studio's plotting vocabulary on QCustomPlot, shared by the panels (one file each:
// views.cpp, modulation_view.cpp, attention_view.cpp, meta_view.cpp, groups_view.cpp) and
// the figures written for papers (figures.cpp): stable colours, graphs from traces, the
// palette-following plot, axis ranges, log axes that label narrow ranges, titles and
// notes, and the panels' texts (run labels, numbers, the modulator's design).
#pragma once

#include <functional>

#include <QColor>
#include <QPalette>
#include <QString>
#include <QTableWidgetItem>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

class QBoxLayout;
class QCheckBox;
class QLabel;
class QSlider;
class QCustomPlot;
class QCPGraph;
class QCPAxis;
class QWidget;

namespace maw::ui {

class StepRange;

class Trace;
class RunModel;

// Stable colours: one per optimizer (curves), one per group (modulation, features).
QColor optimizer_color(const std::string& optimizer);
// A run's colour: its optimizer's, in another shade for each later Start (re-runs of the
// same optimizer stay apart).
QColor run_color(const RunModel& m);
QColor group_color(int group);

// Axes in the desktop palette's colours (light or dark).
void follow_palette(const QPalette& pal, std::initializer_list<QCPAxis*> axes);
// Dense graphs (over 2000 points) draw with 1-pixel pens and no antialiasing.
void thin_if_dense(QCPGraph* g);
// Copies a trace (x: step, or wall time) into a graph; non-finite values are skipped. With
// `values` (the trace smoothed) the graph draws those and keeps the raw ones for export.
void set_graph(QCPGraph* g, const Trace& t, bool wall, const std::vector<double>* values = nullptr);
// A plot in the palette's colours with a legend (beside the axes when legend_outside:
// many groups), x labelled "step", horizontal drag and zoom.
QCustomPlot* make_plot(QWidget* parent, const QString& y_label, bool legend_outside = false);
// Linear or logarithmic y (1, 2, 5 × 10^k ticks over less than two decades).
void set_log_y(QCustomPlot* p, bool log);
// A one-line explanation above a plot's axes.
void add_title(QCustomPlot* p, const QString& text);

// y at x on a polyline whose xs increase (clamped at the ends): maps steps to wall time
// and back for the selection when Curves plots against wall time.
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x);
// Fits y to what the graphs hold between lo and hi.
bool fit_y(QCustomPlot* p, double lo, double hi);
// x to [lo, hi] with y fitted to it (everything when hi <= lo), with a margin.
void range_to(QCustomPlot* p, double lo, double hi);
// y fitted to the visible runs' values within the current x range, with a margin (every
// plot does it when its x range changes: a zoom or drag re-fits y).
void refit_y(QCustomPlot* p);
// The crosshair: the mouse over `p` sets the studio's hovered step (x_is_step; a wall-time
// axis only reads); wherever it is set, `p` draws a vertical line there and a readout of
// each visible named graph's value at that step (the nearest point), up to 12 lines.
void link_hover(QCustomPlot* p, StepRange& range, std::function<bool()> x_is_step = {});
// Graphs whose name the legend's click hid (the plot's "hidden_names") hidden, their legend
// entries faded; every plot applies it before each replot.
void apply_hidden(QCustomPlot* p);
// A grey message in the middle of an empty plot ("not in this log"); "" hides it.
void set_note(QCustomPlot* p, const QString& text);
// A log-y graph whose finite values are all 0 draws nothing: its legend entry says so.
void name_if_zero(QCPGraph* g, const Trace& t);
bool has_data(const QCustomPlot* p);

// A panel's EMA smoothing slider, 0 … 0.99 in hundredths (Curves' scale), `initial` set.
QSlider* make_smoothing_slider(const QString& tooltip, int initial = 0);
// "log y", "smoothing", the slider and its value's label appended to a panel's row.
void add_y_controls(QBoxLayout* row, QCheckBox* log_y, QSlider* smoothing, QLabel* value);

// "metaadamw (learning) · seed 0 — run.h5 (completed)".
QString run_label(const RunModel& m);
// The same without the status: a run's name in legends and readouts (a log's file name
// tells two logs of one optimizer and seed apart).
QString run_name(const RunModel& m);
// A table cell that sorts by a number (its display text is formatted); NaN sorts last.
class NumberItem : public QTableWidgetItem {
 public:
  NumberItem(const QString& text, double key) : QTableWidgetItem(text) {
    setData(Qt::UserRole, key);
  }
  bool operator<(const QTableWidgetItem& other) const override;
};
// A bar centred at 1× for a positive value on a log scale whose ends are ±`span` (natural
// log): {from, to} as fractions of the width, 0.5 being 1×; {0, 0} for no bar (not finite,
// not positive, span ≤ 0).
std::pair<double, double> centred_bar(double value, double span);
// The number, or "–" when it is not finite.
QString format_number(double v, char format, int precision);
// The run's modulator design and factor ranges, for captions (rich text).
QString design_text(const RunModel& m);

}  // namespace maw::ui
