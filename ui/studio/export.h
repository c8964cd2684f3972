// Export of a panel as a researcher takes it away: every plot the panel shows in one
// picture (PNG at twice the screen's resolution, SVG, PDF: by the file's extension), and
// its data as CSV with one named column per drawn line (a smoothed line also gives its raw
// values, "… (raw)" beside "… (smoothed)"), colour maps (Attention) as labelled matrices,
// tables (Modulation's per-group means) as they are sorted.
#pragma once

#include <QString>
#include <vector>

class QCustomPlot;
class QTableWidget;
class QWidget;

namespace maw::ui {

// The plots a panel shows now (a hidden tab's are left out), in layout order.
std::vector<QCustomPlot*> shown_plots(QWidget* panel);

// The tables it shows (Modulation's per-group means).
std::vector<QTableWidget*> shown_tables(QWidget* panel);

// The plots one above the other at their on-screen sizes; false (and `error`) when the file
// cannot be written or there is nothing to draw.
bool save_plots_image(const std::vector<QCustomPlot*>& plots, const QString& path, QString* error);

// A panel without plots (Study's table) as it looks, PNG, SVG or PDF.
bool save_widget_image(QWidget* w, const QString& path, QString* error);

// The plots' visible lines (hidden runs left out) within each plot's x range, as a table:
// a column "step" (or the plot's x label), then "<y label>: <line>" columns, one row per x
// at which any line has a point (empty cells elsewhere). Colour maps follow as matrices,
// `tables` after them.
bool save_panel_csv(const std::vector<QCustomPlot*>& plots,
                    const std::vector<QTableWidget*>& tables, const QString& path, QString* error);

// A panel's context menu on each of its plots and tables: "Export panel as image…", "Export panel
// data as CSV…" (`name` is the suggested file name's stem).
void add_export_menu(QWidget* panel, const QString& name);

}  // namespace maw::ui
