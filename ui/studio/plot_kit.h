// The studio's plotting vocabulary on QCustomPlot, shared by the panels (views.cpp) and
// the figures written for papers (figures.cpp): stable colours, graphs from traces, the
// palette-following plot, log axes that label narrow ranges, titles.
#pragma once

#include <QColor>
#include <QPalette>
#include <QString>
#include <initializer_list>
#include <string>
#include <vector>

class QCustomPlot;
class QCPGraph;
class QCPAxis;
class QWidget;

namespace maw::ui {

class Trace;

// Stable colours: one per optimizer (curves), one per group (modulation, features).
QColor optimizer_color(const std::string& optimizer);
QColor group_color(int group);

// Axes in the desktop palette's colours (light or dark).
void follow_palette(const QPalette& pal, std::initializer_list<QCPAxis*> axes);
// Dense graphs (over 2000 points) draw with 1-pixel pens and no antialiasing.
void thin_if_dense(QCPGraph* g);
// Copies a trace (x: step, or wall time) into a graph; non-finite values are skipped.
void set_graph(QCPGraph* g, const Trace& t, bool wall, const std::vector<double>* values = nullptr);
// A plot in the palette's colours with a legend (beside the axes when legend_outside:
// many groups), x labelled "step", horizontal drag and zoom.
QCustomPlot* make_plot(QWidget* parent, const QString& y_label, bool legend_outside = false);
// Linear or logarithmic y (1, 2, 5 × 10^k ticks over less than two decades).
void set_log_y(QCustomPlot* p, bool log);
// A one-line explanation above a plot's axes.
void add_title(QCustomPlot* p, const QString& text);

}  // namespace maw::ui
