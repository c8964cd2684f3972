#include "studio/export.h"

#include <qcustomplot.h>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QTableWidget>
#include <QTextStream>
#include <algorithm>
#include <cmath>
#include <map>

namespace maw::ui {

namespace {

QString quoted(const QString& s) {
  QString q = s;
  q.replace('"', "\"\"");
  return '"' + q + '"';
}

QString number(double v) {
  return std::isfinite(v) ? QString::number(v, 'g', QLocale::FloatingPointShortest) : QString();
}

// One column of the table: a line's points (x → y) within its plot's x range.
struct Column {
  QString name;
  std::map<double, double> points;
};

void add_graph_columns(QCustomPlot* p, std::vector<Column>& columns) {
  if (p->graphCount() == 0) return;  // (a plot of colour maps may have no default axes)
  const QString plot = p->yAxis->label();
  const auto range = p->xAxis->range();
  for (int i = 0; i < p->graphCount(); ++i) {
    QCPGraph* g = p->graph(i);
    if (!g->visible() || g->property("csv_skip").toBool()) continue;
    QString name = g->property("csv_name").toString();
    if (name.isEmpty()) name = g->name();
    if (name.isEmpty()) name = QString("line %1").arg(i + 1);
    const QString stem = plot.isEmpty() ? name : plot + ": " + name;
    const QVector<double> raw = g->property("raw_y").value<QVector<double>>();
    const bool smoothed = !raw.isEmpty();
    Column c{smoothed ? stem + " (smoothed)" : stem, {}}, r{stem + " (raw)", {}};
    int k = 0;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it, ++k) {
      if (!range.contains(it->key)) continue;  // what the plot shows
      c.points[it->key] = it->value;
      if (smoothed && k < raw.size()) r.points[it->key] = raw[k];
    }
    if (smoothed) columns.push_back(std::move(r));
    columns.push_back(std::move(c));
  }
}

void write_color_maps(QCustomPlot* p, QTextStream& out) {
  for (int i = 0; i < p->plottableCount(); ++i) {
    auto* map = qobject_cast<QCPColorMap*>(p->plottable(i));
    if (!map || !map->visible() || map->data()->isEmpty()) continue;
    const int nx = map->data()->keySize(), ny = map->data()->valueSize();
    const QStringList names = map->property("names").toStringList();
    auto label = [&](int j) { return j < names.size() ? names[j] : QString::number(j); };
    QString title = map->property("title").toString();
    if (title.isEmpty()) title = map->name().isEmpty() ? QString("map") : map->name();
    out << '\n'
        << quoted(title + ": " + map->valueAxis()->label() + " \\ " + map->keyAxis()->label());
    for (int x = 0; x < nx; ++x) out << ',' << quoted(label(x));
    out << '\n';
    for (int y = 0; y < ny; ++y) {
      out << quoted(label(y));
      for (int x = 0; x < nx; ++x) out << ',' << number(map->data()->cell(x, y));
      out << '\n';
    }
  }
}

// Parametric curves (Trajectory's paths): per curve its points in order, step and (x, y).
void write_curves(QCustomPlot* p, QTextStream& out) {
  for (int i = 0; i < p->plottableCount(); ++i) {
    auto* c = qobject_cast<QCPCurve*>(p->plottable(i));
    if (!c || !c->visible() || c->property("csv_skip").toBool() || c->data()->isEmpty()) continue;
    const QString name = c->name().isEmpty() ? QString("curve %1").arg(i + 1) : c->name();
    out << '\n'
        << quoted(name + ": step") << ',' << quoted(c->keyAxis()->label()) << ','
        << quoted(c->valueAxis()->label()) << '\n';
    for (auto it = c->data()->constBegin(); it != c->data()->constEnd(); ++it)
      out << number(it->t) << ',' << number(it->key) << ',' << number(it->value) << '\n';
  }
}

void write_table(QTableWidget* t, QTextStream& out) {
  out << '\n';
  for (int c = 0; c < t->columnCount(); ++c) {
    const auto* h = t->horizontalHeaderItem(c);
    out << (c ? "," : "") << quoted(h ? h->text().simplified() : QString::number(c));
  }
  out << '\n';
  for (int r = 0; r < t->rowCount(); ++r) {
    for (int c = 0; c < t->columnCount(); ++c) {
      const auto* item = t->item(r, c);
      out << (c ? "," : "");
      if (!item) continue;
      const QVariant key = item->data(Qt::UserRole);  // a number's full precision
      out << (key.isValid() ? number(key.toDouble()) : quoted(item->text()));
    }
    out << '\n';
  }
}

}  // namespace

std::vector<QCustomPlot*> shown_plots(QWidget* panel) {
  std::vector<QCustomPlot*> plots;
  for (auto* p : panel->findChildren<QCustomPlot*>())
    if (p->isVisibleTo(panel) && p->width() > 0 && p->height() > 0) plots.push_back(p);
  // Top to bottom, then left to right, as they are laid out.
  std::stable_sort(plots.begin(), plots.end(), [panel](QCustomPlot* a, QCustomPlot* b) {
    const QPoint pa = a->mapTo(panel, QPoint()), pb = b->mapTo(panel, QPoint());
    return pa.y() != pb.y() ? pa.y() < pb.y() : pa.x() < pb.x();
  });
  return plots;
}

std::vector<QTableWidget*> shown_tables(QWidget* panel) {
  std::vector<QTableWidget*> tables;
  for (auto* t : panel->findChildren<QTableWidget*>())
    if (t->isVisibleTo(panel)) tables.push_back(t);
  return tables;
}

bool save_plots_image(const std::vector<QCustomPlot*>& plots, const QString& path, QString* error) {
  auto fail = [&](const QString& why) {
    if (error) *error = why;
    return false;
  };
  if (plots.empty()) return fail("nothing to export: the panel shows no plot");
  int width = 0, height = 0;
  for (auto* p : plots) {
    width = std::max(width, p->width());
    height += p->height();
  }
  auto draw = [&](QCPPainter& painter) {
    int y = 0;
    for (auto* p : plots) {
      painter.save();
      painter.translate(0, y);
      p->toPainter(&painter, p->width(), p->height());
      painter.restore();
      y += p->height();
    }
  };
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "svg") {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    svg.setTitle("MetaAdamW Studio");
    QCPPainter painter;
    if (!painter.begin(&svg)) return fail("cannot write " + path);
    painter.setMode(QCPPainter::pmVectorized);
    draw(painter);
    if (!painter.end()) return fail("cannot write " + path);
  } else if (suffix == "pdf") {
    QPdfWriter pdf(path);
    pdf.setResolution(72);  // a point per pixel
    pdf.setPageSize(
        QPageSize(QSizeF(width, height), QPageSize::Point, QString(), QPageSize::ExactMatch));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setCreator("MetaAdamW Studio");
    QCPPainter painter;
    if (!painter.begin(&pdf)) return fail("cannot write " + path);
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    draw(painter);
    if (!painter.end()) return fail("cannot write " + path);
  } else {
    const double scale = 2.0;  // sharp in a paper or on a high-density screen
    QImage image(static_cast<int>(width * scale), static_cast<int>(height * scale),
                 QImage::Format_ARGB32);
    image.fill(plots.front()->palette().color(QPalette::Base));
    QCPPainter painter;
    if (!painter.begin(&image)) return fail("cannot draw " + path);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(scale, scale);
    painter.setMode(QCPPainter::pmNonCosmetic);
    draw(painter);
    painter.end();
    if (!image.save(path, suffix == "jpg" || suffix == "jpeg" ? "JPG" : "PNG"))
      return fail("cannot write " + path);
  }
  return true;
}

bool save_panel_csv(const std::vector<QCustomPlot*>& plots,
                    const std::vector<QTableWidget*>& tables, const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  QTextStream out(&f);
  // One table per x axis (step, wall time, the interpolation's a, …): plots that share
  // their x axis's label share a table, a row per x.
  std::vector<std::pair<QString, std::vector<Column>>> tables_by_x;
  for (auto* p : plots) {
    if (p->graphCount() == 0) continue;
    const QString l = p->xAxis->label().isEmpty() ? QString("x") : p->xAxis->label();
    auto it = std::find_if(tables_by_x.begin(), tables_by_x.end(),
                           [&l](const auto& t) { return t.first == l; });
    if (it == tables_by_x.end()) it = tables_by_x.insert(tables_by_x.end(), {l, {}});
    add_graph_columns(p, it->second);
  }
  bool first = true;
  for (const auto& [x_label, columns] : tables_by_x) {
    if (columns.empty()) continue;
    if (!first) out << '\n';
    first = false;
    std::map<double, bool> xs;
    for (const auto& c : columns)
      for (const auto& [x, y] : c.points) xs[x] = true;
    out << quoted(x_label);
    for (const auto& c : columns) out << ',' << quoted(c.name);
    out << '\n';
    for (const auto& [x, unused] : xs) {
      out << number(x);
      for (const auto& c : columns) {
        const auto it = c.points.find(x);
        out << ',' << (it == c.points.end() ? QString() : number(it->second));
      }
      out << '\n';
    }
  }
  for (auto* p : plots) write_color_maps(p, out);
  for (auto* p : plots) write_curves(p, out);
  for (auto* t : tables) write_table(t, out);
  out.flush();
  if (f.error() != QFile::NoError) {
    if (error) *error = "cannot write " + path + ": " + f.errorString();
    return false;
  }
  return true;
}

bool save_widget_image(QWidget* w, const QString& path, QString* error) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  bool ok = false;
  if (suffix == "svg") {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(w->size());
    svg.setViewBox(QRect(QPoint(), w->size()));
    QPainter painter;
    ok = painter.begin(&svg);
    if (ok) {
      w->render(&painter);
      ok = painter.end();
    }
  } else if (suffix == "pdf") {
    QPdfWriter pdf(path);
    pdf.setResolution(72);
    pdf.setPageSize(
        QPageSize(QSizeF(w->size()), QPageSize::Point, QString(), QPageSize::ExactMatch));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter painter;
    ok = painter.begin(&pdf);
    if (ok) {
      w->render(&painter);
      ok = painter.end();
    }
  } else {
    QImage image(w->size() * 2, QImage::Format_ARGB32);
    image.setDevicePixelRatio(2.0);
    image.fill(w->palette().color(QPalette::Window));
    w->render(&image);
    ok = image.save(path, "PNG");
  }
  if (!ok && error) *error = "cannot write " + path;
  return ok;
}

void add_export_menu(QWidget* panel, const QString& name) {
  QList<QWidget*> targets;
  for (auto* p : panel->findChildren<QCustomPlot*>()) targets << p;
  for (auto* t : panel->findChildren<QTableWidget*>()) targets << t;
  for (auto* p : targets) {
    p->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(p, &QWidget::customContextMenuRequested, p, [panel, p, name](QPoint at) {
      QMenu menu;
      menu.addAction("Export panel as image…", [panel, name] {
        const QString f = QFileDialog::getSaveFileName(panel, "Export " + name, name + ".png",
                                                       "PNG (*.png);;SVG (*.svg);;PDF (*.pdf)");
        QString error;
        const auto plots = shown_plots(panel);
        if (!f.isEmpty() && !(plots.empty() ? save_widget_image(panel, f, &error)
                                            : save_plots_image(plots, f, &error)))
          QMessageBox::warning(panel, "Export", error);
      });
      menu.addAction("Export panel data as CSV…", [panel, name] {
        const QString f = QFileDialog::getSaveFileName(panel, "Export " + name + " data",
                                                       name + ".csv", "CSV (*.csv)");
        QString error;
        if (!f.isEmpty() && !save_panel_csv(shown_plots(panel), shown_tables(panel), f, &error))
          QMessageBox::warning(panel, "Export", error);
      });
      menu.exec(p->mapToGlobal(at));
    });
  }
}

}  // namespace maw::ui
