// The studio, offscreen (QtTest): the window opens; a tiny comparison streams into the
// curves; the attention heatmap is G×G; a log opened from disk fills every panel (the
// modulation's log y, smoothing and per-group table, the meta-diagnostics plots); the
// exports write a valid PNG and CSV; the command line's screenshots start a run only when
// asked to.
#include <qcustomplot.h>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>
#include <algorithm>
#include <cmath>

#include "api/errors.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/session.h"
#include "model/trace.h"
#include "studio/figures.h"
#include "studio/main_window.h"
#include "studio/plot_kit.h"
#include "studio/setup_panel.h"
#include "studio/studio.h"
#include "studio/views.h"

using maw::ui::GroupPlotView;
using maw::ui::MainWindow;

class StudioTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir tmp_;

  QString write_config(const QString& name, const QString& json) {
    const QString path = tmp_.filePath(name);
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(json.toUtf8());
    return path;
  }

  // Raises a dock (tabbed docks refresh only while shown, and at once when raised).
  static void show_panel(MainWindow& w, const QString& name) {
    for (auto* d : w.findChildren<QDockWidget*>())
      if (d->objectName() == name) d->raise();
    QApplication::processEvents();
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("MetaAdamW-test");  // no user settings touched
    QSettings().clear();  // the default layout, not one an earlier run saved
    QVERIFY(tmp_.isValid());
  }

  void windowOpensWithEveryPanel() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QStringList docks;
    for (auto* d : w.findChildren<QDockWidget*>()) docks << d->objectName();
    docks.sort();
    QCOMPARE(docks, QStringList({"attention", "features", "groups", "meta", "modulation", "setup",
                                 "steps", "study", "trajectory"}));
  }

  void aTinyRunStreamsIntoTheCurves() {
    MainWindow w;
    w.show();
    w.setup().load_json(
        write_config("tiny.json",
                     R"({"task": "synthetic", "preset": "tiny", "steps": 40, "eval_every": 10,
            "snapshot_every": 2, "attention_every": 10, "meta_update_freq": 10, "threads": 1})"));
    w.start();
    QVERIFY(w.studio().running());
    QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 120000);
    QTest::qWait(100);  // one more drain
    const auto& runs = w.studio().runs();
    QCOMPARE(runs.size(), size_t{2});  // AdamW and MetaAdamW
    for (const auto& r : runs) {
      QCOMPARE(r->status(), std::string("completed"));
      QCOMPARE(r->train_loss.appended(), uint64_t{40});
      QCOMPARE(r->eval_metric.appended(), uint64_t{4});
    }
    // Loss plot: per run a faint raw trace and its EMA, 40 points each; metric: 4 each.
    auto* loss = w.curves().loss_plot();
    QCOMPARE(loss->graphCount(), 4);
    for (int i = 0; i < loss->graphCount(); ++i) QCOMPARE(loss->graph(i)->dataCount(), 40);
    auto* metric = w.curves().metric_plot();
    QCOMPARE(metric->graphCount(), 2);
    QCOMPARE(metric->graph(0)->dataCount(), 4);
    QCOMPARE(w.curves().graph_points(), 4 * 40 + 2 * 4);
    // The attention heatmap is G × G for the MetaAdamW run.
    const auto G = static_cast<int>(runs[1]->info().group_names.size());
    QVERIFY(G > 1);
    show_panel(w, "attention");  // on a small screen it shares a tab with Modulation
    QCOMPARE(w.attention().map_size(), G);
    show_panel(w, "modulation");
    QCOMPARE(w.modulation().plot()->graphCount(), G);
    // With an AdamW run of the same task open, the table compares with AdamW's η.
    auto* table = w.modulation().summary();
    QCOMPARE(table->rowCount(), G);
    const auto ratio_header = table->horizontalHeaderItem(GroupPlotView::kLrRatio)->text();
    QVERIFY2(ratio_header.contains("AdamW"), qPrintable(ratio_header));
    QVERIFY2(w.modulation().summary_caption()->text().contains("AdamW's η (adamw · seed 0)"),
             qPrintable(w.modulation().summary_caption()->text()));

    // Exports: a PNG that loads, SVG, PDF; a CSV with a named column per line and a row per
    // step (the smoothed loss beside its raw values, which are the trace's).
    const QString png = tmp_.filePath("curves.png"), csv = tmp_.filePath("curves.csv");
    QVERIFY(w.export_panel("curves", png));
    QImage img(png);
    QVERIFY(!img.isNull());
    // Both plots (loss above the metric), at twice the screen's resolution.
    QCOMPARE(img.width(),
             2 * std::max(w.curves().loss_plot()->width(), w.curves().metric_plot()->width()));
    QCOMPARE(img.height(),
             2 * (w.curves().loss_plot()->height() + w.curves().metric_plot()->height()));
    const QString svg = tmp_.filePath("curves.svg"), pdf = tmp_.filePath("curves.pdf");
    QVERIFY(w.export_panel("curves", svg));
    QFile s(svg);
    QVERIFY(s.open(QIODevice::ReadOnly));
    const QByteArray svg_text = s.readAll();
    QVERIFY2(svg_text.contains("<svg"), svg_text.left(200).constData());
    QVERIFY(w.export_panel("curves", pdf));
    QVERIFY(QFileInfo(pdf).size() > 1000);
    QVERIFY(w.export_panel("curves", csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    std::vector<double> steps = runs[0]->train_loss.steps();  // one row per step of any line
    for (const auto& r : runs)
      for (const maw::ui::Trace* t : {&r->train_loss, &r->eval_metric})
        steps.insert(steps.end(), t->steps().begin(), t->steps().end());
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    QCOMPARE(lines.size(), 1 + static_cast<int>(steps.size()));
    const QStringList header = lines.first().split("\",\"");
    QCOMPARE(header.size(), 1 + 2 * 2 + 2);  // step; per run loss raw + smoothed; metric
    QVERIFY2(header[0].contains("step"), qPrintable(lines.first()));
    const QString raw0 = "training loss: " + run_name(*runs[0]) + " (raw)";
    QVERIFY2(lines.first().contains(raw0), qPrintable(lines.first()));
    QVERIFY2(lines.first().contains(run_name(*runs[0]) + " (smoothed)"), qPrintable(lines.first()));
    QVERIFY2(!lines.first().contains("line "), qPrintable(lines.first()));  // every column named
    const int col = static_cast<int>(header.indexOf(raw0));
    QVERIFY(col > 0);
    const QStringList row = lines[10].split(',');  // step 9 or so: its raw loss is the trace's
    const double step = row[0].toDouble();
    const auto& t = runs[0]->train_loss;
    const auto at = std::find(t.steps().begin(), t.steps().end(), step) - t.steps().begin();
    QVERIFY(static_cast<size_t>(at) < t.size());
    QCOMPARE(row[col].toDouble(), t.values()[static_cast<size_t>(at)]);
    // Every panel exports its plots; Modulation's CSV holds its per-group table too.
    show_panel(w, "modulation");
    const QString mod_csv = tmp_.filePath("modulation.csv");
    QVERIFY2(w.export_panel("modulation", mod_csv), qPrintable(w.last_error()));
    QFile mf(mod_csv);
    QVERIFY(mf.open(QIODevice::ReadOnly));
    const QString mod_text = QString::fromUtf8(mf.readAll());
    QVERIFY2(mod_text.contains(QString::fromStdString(runs[1]->info().group_names[0])),
             qPrintable(mod_text.left(300)));
    QVERIFY2(mod_text.contains("\"group\",\"η·α ÷"), qPrintable(mod_text.right(600)));
    show_panel(w, "attention");
    const QString att_png = tmp_.filePath("attention.png"),
                  att_csv = tmp_.filePath("attention.csv");
    QVERIFY2(w.export_panel("attention", att_png), qPrintable(w.last_error()));
    QVERIFY(!QImage(att_png).isNull());
    QVERIFY2(w.export_panel("attention", att_csv), qPrintable(w.last_error()));
    QFile af(att_csv);
    QVERIFY(af.open(QIODevice::ReadOnly));
    const auto att_lines = QString::fromUtf8(af.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(att_lines.size(), 1 + G);  // a G × G matrix with a header row
    QVERIFY(!w.export_panel("no-such-panel", png));
  }

  // A folder opens its logs (as File › Open study folder); every file that cannot be opened
  // is named in one message, not only the last one.
  void aFolderOpensItsLogsAndEveryBadFileIsNamed() {
    MainWindow w;
    const QString corpus = QString(METAADAMW_SOURCE_DIR) + "/tests/corpus/log";
    w.open_logs({corpus, tmp_.filePath("no-such-folder-or-file")});
    QCOMPARE(w.studio().runs().size(), size_t{1});  // v2-metaadamw-tiny.h5
    for (const char* bad : {"empty.h5", "signature_only.h5", "csv_named_h5.h5", "no-such-folder"})
      QVERIFY2(w.last_error().contains(bad), qPrintable(w.last_error()));
    QVERIFY2(w.last_error().startsWith("4 of the logs"), qPrintable(w.last_error()));
  }

  // A run setup file fills the fields it has keys for (steps, threads, η, K …: the form
  // shows what will run); only keys without a field go to "other keys".
  void aRunSetupFileFillsTheFormsFields() {
    MainWindow w;
    w.setup().load_json(write_config(
        "fields.json", R"({"task": "synthetic", "preset": "tiny", "steps": 40, "threads": 1,
            "lr": 0.002, "meta_update_freq": 7, "eval_every": 10})"));
    QCOMPARE(w.setup().findChild<QSpinBox*>("steps")->value(), 40);
    QCOMPARE(w.setup().findChild<QSpinBox*>("threads")->value(), 1);
    QCOMPARE(w.setup().findChild<QSpinBox*>("meta_update_freq")->value(), 7);
    QCOMPARE(w.setup().findChild<QLineEdit*>("lr")->text(), QString("0.002"));
    QCOMPARE(w.setup().findChild<QLineEdit*>("other_keys")->text(), QString("eval_every=10"));
    const auto c = w.setup().config();
    QCOMPARE(c.steps, int64_t{40});
    QCOMPARE(c.eval_every, int64_t{10});
  }

  // A second Start is runs of its own: its own labels ("… · #2") and shades, its own mean
  // in Curves, and every panel turns to its MetaAdamW run; a pick in one panel is every
  // panel's. "Clear finished runs" leaves no curve, heatmap or selection behind.
  void aSecondStartIsItsOwnRunAndClearingLeavesNothing() {
    MainWindow w;
    w.show();
    w.setup().load_json(
        write_config("rerun.json",
                     R"({"task": "synthetic", "preset": "tiny", "steps": 20, "snapshot_every": 2,
            "attention_every": 2, "meta_update_freq": 5, "threads": 1})"));
    for (int k = 0; k < 2; ++k) {
      w.start();
      QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 60000);
    }
    QTest::qWait(100);
    const auto& runs = w.studio().runs();
    QCOMPARE(runs.size(), size_t{4});
    QCOMPARE(runs[0]->label(), std::string("adamw · seed 0"));
    QCOMPARE(runs[2]->label(), std::string("adamw · seed 0 · #2"));
    QVERIFY(maw::ui::run_color(*runs[0]) != maw::ui::run_color(*runs[2]));
    QVERIFY(maw::ui::run_color(*runs[1]) != maw::ui::run_color(*runs[3]));
    QCOMPARE(w.studio().shown_run(), 3);  // the newest MetaAdamW run
    show_panel(w, "modulation");
    auto* mod_picker = w.modulation().findChild<maw::ui::RunPicker*>();
    QVERIFY(mod_picker);
    QCOMPARE(mod_picker->currentIndex(), 3);
    // Curves' seed mean: one series per optimizer and Start, none merged.
    w.curves().findChildren<QComboBox*>()[1]->setCurrentIndex(2);
    w.curves().refresh();
    int means = 0;
    for (int i = 0; i < w.curves().loss_plot()->graphCount(); ++i)
      if (w.curves().loss_plot()->graph(i)->name().contains("mean of 1")) ++means;
    QCOMPARE(means, 4);
    // A pick in Modulation is Attention's too.
    mod_picker->setCurrentIndex(1);
    emit mod_picker->activated(1);
    show_panel(w, "attention");
    QCOMPARE(w.attention().findChild<maw::ui::RunPicker*>()->currentIndex(), 1);
    QVERIFY(w.attention().map_size() > 0);
    w.studio().step_range().select(2, 8);
    // Clear: nothing stays.
    w.studio().clear_finished();
    QTest::qWait(50);
    QVERIFY(w.studio().runs().empty());
    QCOMPARE(w.attention().map_size(), 0);
    show_panel(w, "modulation");
    QCOMPARE(w.modulation().plot()->graphCount(), 0);
    QVERIFY(!w.studio().step_range().has_selection());
    QCOMPARE(w.curves().loss_plot()->graphCount(), 0);
  }

  // The legend hides a run on a click (its faint raw trace too) and shows it alone on a
  // double-click; a zoom of x re-fits y to the visible runs' values there.
  void legendHidesRunsAndAZoomRefitsY() {
    MainWindow w;
    w.show();
    w.setup().load_json(write_config(
        "legend.json", R"({"task": "synthetic", "preset": "tiny", "steps": 40, "threads": 1})"));
    w.start();
    QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 60000);
    QTest::qWait(100);
    auto* p = w.curves().loss_plot();
    QCPGraph* adamw = nullptr;
    for (int i = 0; i < p->graphCount(); ++i)
      if (p->graph(i)->name() == "adamw · seed 0" && p->legend->itemWithPlottable(p->graph(i)))
        adamw = p->graph(i);
    QVERIFY(adamw);
    emit p->legendClick(p->legend, p->legend->itemWithPlottable(adamw), nullptr);
    w.curves().refresh();  // graphs are rebuilt (adamw is gone): the choice is kept by name
    adamw = nullptr;
    p->replot();
    int hidden = 0, shown = 0;
    for (int i = 0; i < p->graphCount(); ++i) (p->graph(i)->visible() ? shown : hidden) += 1;
    QCOMPARE(hidden, 2);  // AdamW's EMA line and its raw trace
    QCOMPARE(shown, 2);
    // Zoom to steps 20–30: y spans MetaAdamW's values there (plus a margin of 8%).
    p->xAxis->setRange(20, 30);
    double lo = 1e300, hi = -1e300;
    for (int i = 0; i < p->graphCount(); ++i) {
      if (!p->graph(i)->visible()) continue;
      for (auto it = p->graph(i)->data()->findBegin(20); it != p->graph(i)->data()->findEnd(30);
           ++it) {
        if (it->key < 20 || it->key > 30) continue;
        lo = std::min(lo, it->value);
        hi = std::max(hi, it->value);
      }
    }
    const auto y = p->yAxis->range();
    QVERIFY2(
        y.lower <= lo && y.upper >= hi && y.size() <= 1.2 * (hi - lo) + 1e-12,
        qPrintable(QString("y %1..%2, data %3..%4").arg(y.lower).arg(y.upper).arg(lo).arg(hi)));
    // A double-click on MetaAdamW's entry: it alone; again: everything.
    p->setProperty("hidden_names", QStringList());
    p->replot();
    QCPGraph* meta = nullptr;
    for (int i = 0; i < p->graphCount(); ++i)
      if (p->graph(i)->name().startsWith("metaadamw") && p->legend->itemWithPlottable(p->graph(i)))
        meta = p->graph(i);
    QVERIFY(meta);
    auto visible = [p](const QString& prefix) {
      int n = 0;
      for (int i = 0; i < p->graphCount(); ++i)
        if (p->graph(i)->name().startsWith(prefix) && p->graph(i)->visible()) ++n;
      return n;
    };
    emit p->legendDoubleClick(p->legend, p->legend->itemWithPlottable(meta), nullptr);
    p->replot();
    QCOMPARE(visible("metaadamw"), 2);
    QCOMPARE(visible("adamw"), 0);
    emit p->legendDoubleClick(p->legend, p->legend->itemWithPlottable(meta), nullptr);
    p->replot();
    QCOMPARE(visible("adamw"), 2);
  }

  // The step under the mouse in one panel is every panel's: a crosshair there and a readout
  // of each visible run's value (the nearest point).
  void hoverIsACrosshairInEveryPanel() {
    MainWindow w;
    w.show();
    w.open_logs({QString(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5"});
    show_panel(w, "steps");
    QTest::qWait(50);
    w.studio().step_range().hover(12);
    auto readout = [](QCustomPlot* p) -> QString {
      for (int i = 0; i < p->itemCount(); ++i)
        if (p->item(i)->objectName() == "readout" && p->item(i)->visible())
          return qobject_cast<QCPItemText*>(p->item(i))->text();
      return {};
    };
    const QString curves = readout(w.curves().loss_plot());
    QVERIFY2(curves.startsWith("step 12\n") && curves.contains("metaadamw"), qPrintable(curves));
    // The value read is the run's loss at step 12 (EMA-smoothed in Curves: the raw trace
    // is in Steps, which shows the gradient norm; its loss value is checked there).
    w.steps().series()->setCurrentText("loss");
    w.studio().step_range().hover(13);
    w.studio().step_range().hover(12);
    const auto& m = *w.studio().runs()[0];
    const auto& t = m.train_loss;
    double at12 = std::nan("");
    for (size_t i = 0; i < t.size(); ++i)
      if (t.steps()[i] == 12) at12 = t.values()[i];
    QVERIFY(std::isfinite(at12));
    const QString steps = readout(w.steps().plot());
    QVERIFY2(steps.contains(maw::ui::format_number(at12, 'g', 5)),
             qPrintable(steps + " vs " + QString::number(at12)));
    w.studio().step_range().hover(std::nan(""));
    QVERIFY(readout(w.curves().loss_plot()).isEmpty());
  }

  // A narrow plot of a long run keeps its step labels apart (the review saw
  // "500100015002000025003000").
  void narrowPlotsKeepTheirTickLabelsApart() {
    QWidget host;
    auto* p = maw::ui::make_plot(&host, "α");
    p->resize(260, 180);
    host.show();
    p->xAxis->setRange(0, 30000);
    p->replot();
    p->replot();  // the tick count follows the laid-out axis rect
    const int width = p->axisRect()->width();
    QVERIFY(width > 0);
    // The labels side by side, with a gap of 8 px between two, fit the axis.
    const QFontMetrics fm(p->xAxis->tickLabelFont());
    const auto labels = p->xAxis->tickVectorLabels();
    int needed = 8 * (static_cast<int>(labels.size()) - 1);
    for (const auto& l : labels) needed += fm.horizontalAdvance(l);
    QVERIFY2(needed <= width, qPrintable(QStringList(labels.begin(), labels.end()).join(" ") +
                                         QString(": %1 px on %2").arg(needed).arg(width)));
    QVERIFY(labels.size() >= 2);
  }

  // Attention: one colour scale for all of a run's maps by default (maps of two steps
  // compare), each map its own when unticked; the layer spin box says "of N".
  void attentionMapsShareOneColourScale() {
    MainWindow w;
    w.show();
    w.open_logs({QString(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5"});
    show_panel(w, "attention");
    const auto& maps = w.studio().runs()[0]->attention;
    QVERIFY(maps.size() > 1);
    float all = 0;
    for (size_t i = 0; i < maps.size(); ++i)  // every held map, layer and head
      for (int64_t l = 0; l < maps.layers(); ++l)
        for (int64_t h = 0; h < maps.heads(); ++h)
          for (float v : maps.map(i, l, h)) all = std::max(all, v);
    QVERIFY(std::abs(w.attention().color_max() - all) < 1e-6);
    w.attention().fixed_scale()->setChecked(false);
    const auto shown = maps.map(static_cast<size_t>(maps.size() - 1), 0, 0);  // follow: newest
    QVERIFY(std::abs(w.attention().color_max() - *std::max_element(shown.begin(), shown.end())) <
            1e-6);
    auto* layer = w.attention().findChildren<QSpinBox*>().first();
    QVERIFY2(layer->text().endsWith(QString(" of %1").arg(maps.layers())),
             qPrintable(layer->text()));

    // A typed step goes to the nearest map; play walks the maps to the last and stops there.
    auto& att = w.attention();
    const auto& steps = maps.steps();
    att.step_entry()->setValue(static_cast<int>(steps[1] - 1));  // nearer to map 1 than 0
    QCOMPARE(att.shown_step(), steps[1]);
    QCOMPARE(att.step_entry()->value(), static_cast<int>(steps[1]));
    att.step_entry()->setValue(static_cast<int>(steps[0]));
    QCOMPARE(att.shown_step(), steps[0]);
    att.play()->setChecked(true);
    QTRY_COMPARE_WITH_TIMEOUT(att.shown_step(), steps.back(), 10000);
    QTRY_VERIFY(!att.play()->isChecked());
    // Every head of the layer at once, on one colour scale (the run's largest weight).
    att.fixed_scale()->setChecked(true);
    att.all_heads()->setChecked(true);
    QCOMPARE(att.maps_shown(), static_cast<int>(maps.heads()));
    QVERIFY(std::abs(att.color_max() - all) < 1e-6);
    att.all_heads()->setChecked(false);
    QCOMPARE(att.maps_shown(), 1);
    // Axes label groups by index; the mouse over a cell names both groups and the weight.
    att.plot()->replot();
    const auto G = att.map_size();
    const QString first_name = QString::fromStdString(w.studio().runs()[0]->info().group_names[0]);
    QPoint cell;  // the pixel of cell (query 0, key 0)
    for (auto* r : att.plot()->axisRects()) {
      auto* x = r->axis(QCPAxis::atBottom);
      auto* y = r->axis(QCPAxis::atLeft);
      cell = QPoint(static_cast<int>(x->coordToPixel(0)), static_cast<int>(y->coordToPixel(0)));
      QVERIFY(x->tickVectorLabels().size() > 0);
      for (const auto& label : x->tickVectorLabels()) {
        bool number = false;
        const int g = label.toInt(&number);
        QVERIFY2(number && g >= 0 && g < G, qPrintable(label));
      }
    }
    const QString text = att.cell_text(cell);
    QVERIFY2(text.startsWith("query 0 " + first_name), qPrintable(text));
    QVERIFY2(text.contains("key 0 " + first_name), qPrintable(text));
    QVERIFY(att.cell_text(QPoint(1, 1)).isEmpty());  // off the map
  }

  // A study's folder shows its statistics (read from its JSON, here the committed evidence
  // for sentiment, whose logs are not in the repository): the tuned comparison and every
  // variant's, with the JSON's numbers; the table exports as CSV.
  void aStudyFolderShowsItsStatistics() {
    MainWindow w;
    w.show();
    const QString dir = QString(METAADAMW_SOURCE_DIR) + "/results/evidence/sentiment";
    w.open_logs({dir});
    QVERIFY2(w.last_error().isEmpty(), qPrintable(w.last_error()));  // no logs: not an error
    QFile f(dir + "/protocol.json");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject p = QJsonDocument::fromJson(f.readAll()).object();
    int comparisons = 1;
    for (const auto& v : p["variants"].toObject())
      comparisons += v.toObject()["comparisons"].toArray().size();
    auto* t = w.study().table();
    QCOMPARE(t->rowCount(), comparisons);
    int tuned = -1;
    for (int r = 0; r < t->rowCount(); ++r)
      if (t->item(r, maw::ui::StudyView::kComparison)
              ->text()
              .startsWith("tuned: adamw → metaadamw"))
        tuned = r;
    QVERIFY(tuned >= 0);
    const QJsonObject c = p["compare"].toObject();
    QCOMPARE(t->item(tuned, maw::ui::StudyView::kPT)->data(Qt::UserRole).toDouble(),
             c["p_value"].toDouble());
    QCOMPARE(t->item(tuned, maw::ui::StudyView::kTimeRatio)->data(Qt::UserRole).toDouble(),
             c["time_ratio"].toDouble());
    QVERIFY(t->item(tuned, maw::ui::StudyView::kMetric)->text().startsWith("final accuracy"));
    const QString csv = tmp_.filePath("study.csv"), png = tmp_.filePath("study.png");
    show_panel(w, "study");
    QVERIFY2(w.export_panel("study", csv), qPrintable(w.last_error()));
    QFile out(csv);
    QVERIFY(out.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(out.readAll());
    QVERIFY2(text.contains(
                 QString::number(c["p_value"].toDouble(), 'g', QLocale::FloatingPointShortest)),
             qPrintable(text.left(400)));
    QVERIFY2(w.export_panel("study", png), qPrintable(w.last_error()));
    QVERIFY(!QImage(png).isNull());
    // A folder with neither logs nor a study is an error; a corrupt protocol is named.
    QDir(tmp_.path()).mkpath("broken-study");
    QFile bad(tmp_.filePath("broken-study/protocol.json"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{ not json");
    bad.close();
    w.open_logs({tmp_.filePath("broken-study")});
    QVERIFY2(w.last_error().contains("protocol.json"), qPrintable(w.last_error()));
    QCOMPARE(t->rowCount(), comparisons);  // nothing lost
  }

  // Trajectory: both optimizers' paths on one plane from the start (the origin), live; the
  // logs of the same runs, opened afterwards, draw the same paths.
  void trajectoryPathsLiveAndFromTheirLogs() {
    const QString logs = tmp_.filePath("trajectory-logs");
    std::vector<std::vector<std::pair<double, double>>> live;
    {
      MainWindow w;
      w.show();
      w.setup().load_json(
          write_config("traj.json",
                       R"({"task": "synthetic", "preset": "tiny", "steps": 40, "eval_every": 10,
              "snapshot_every": 4, "meta_update_freq": 10, "threads": 1,
              "landscape_grid": 5})"));
      for (auto* e : w.setup().findChildren<QLineEdit*>())
        if (e->placeholderText().startsWith("no logging")) e->setText(logs);
      w.start();
      QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 120000);
      QTest::qWait(100);
      show_panel(w, "trajectory");
      auto& t = w.trajectory();
      QCOMPARE(t.paths(), 2);  // AdamW and MetaAdamW: one seed, one plane
      for (int i = 0; i < 2; ++i) {
        const auto p = t.path_points(i);
        QCOMPARE(p.size(), size_t{11});                 // steps 0, 4, …, 40
        QCOMPARE(p.front(), std::make_pair(0.0, 0.0));  // from the origin
        live.push_back(p);
      }
      QVERIFY(live[0].back() != live[1].back());     // the optimizers went different ways
      QVERIFY(t.distance_plot()->graphCount() > 2);  // the groups, and both runs overall
      QCOMPARE(t.landscape_cells(), 25);             // the shown run's landscape under the paths
      t.x_direction()->setValue(2);                  // directions 2 × 1: not the landscape's plane
      QCOMPARE(t.landscape_cells(), 0);
      t.x_direction()->setValue(1);
      QCOMPARE(t.landscape_cells(), 25);
      const QString csv = tmp_.filePath("trajectory.csv");
      QVERIFY2(w.export_panel("trajectory", csv), qPrintable(w.last_error()));
      QFile f(csv);
      QVERIFY(f.open(QIODevice::ReadOnly));
      QVERIFY(QString::fromUtf8(f.readAll()).contains(": step\",\"direction 1"));

      // After the runs: a landscape on demand (3 × 3 around a clicked point) replaces the
      // end-of-run one, in the panel and in the log.
      QVERIFY(t.compute_button()->isEnabled());
      t.grid()->setValue(3);
      t.set_clicked_point(0.0, 0.0);  // the start
      QCOMPARE(t.around()->currentIndex(), 1);
      t.compute_button()->click();
      QVERIFY(w.studio().probing());
      QVERIFY(!t.compute_button()->isEnabled());  // one probe at a time
      QTRY_VERIFY_WITH_TIMEOUT(!w.studio().probing(), 60000);
      QCOMPARE(t.landscape_cells(), 9);
      QVERIFY(t.contour_lines() > 0);  // iso-lines over the colour map
      const auto& shown = *w.studio().runs()[static_cast<size_t>(w.studio().shown_run())];
      QVERIFY(shown.landscape);
      QCOMPARE(shown.landscape->center_x, 0.0);
      QCOMPARE(shown.landscape->center_y, 0.0);
      // The line to the other run: drawn for both runs (stored in both logs).
      QCOMPARE(t.line_to()->count(), 1);
      QVERIFY(t.interpolate_button()->isEnabled());
      t.interpolate_button()->click();
      QTRY_VERIFY_WITH_TIMEOUT(!w.studio().probing(), 60000);
      QCOMPARE(t.line_plot()->graphCount(), 1);
      QCOMPARE(t.line_plot()->graph(0)->dataCount(), 41);
      for (const auto& m : w.studio().runs()) QVERIFY(m->interpolation.has_value());
      // Its CSV: the line's table (x = a) apart from the distances' (x = step).
      const QString line_csv = tmp_.filePath("trajectory-line.csv");
      QVERIFY2(w.export_panel("trajectory", line_csv), qPrintable(w.last_error()));
      QFile lf(line_csv);
      QVERIFY(lf.open(QIODevice::ReadOnly));
      const QStringList lines = QString::fromUtf8(lf.readAll()).split('\n');
      QVERIFY(std::any_of(lines.begin(), lines.end(),
                          [](const QString& l) { return l.startsWith("\"a: (1 − a)"); }));
      QVERIFY(std::any_of(lines.begin(), lines.end(),
                          [](const QString& l) { return l.startsWith("\"step\""); }));
      // Cancel: a 101 × 101 grid abandoned, nothing stored, the 3 × 3 one still shown.
      t.grid()->setValue(101);
      t.compute_button()->click();
      QTRY_VERIFY(t.cancel_button()->isVisible());
      t.cancel_button()->click();
      QTRY_VERIFY_WITH_TIMEOUT(!w.studio().probing(), 60000);
      QVERIFY2(t.probe_note()->text().contains("Cancelled"), qPrintable(t.probe_note()->text()));
      QCOMPARE(t.landscape_cells(), 9);
    }
    MainWindow w;
    w.show();
    w.open_logs({logs});
    show_panel(w, "trajectory");
    auto& t = w.trajectory();
    QTRY_COMPARE(t.paths(), 2);
    std::vector<std::vector<std::pair<double, double>>> loaded{t.path_points(0), t.path_points(1)};
    std::sort(live.begin(), live.end());
    std::sort(loaded.begin(), loaded.end());
    QCOMPARE(loaded, live);
    QCOMPARE(t.landscape_cells(), 9);  // the probe's, from the log
    QCOMPARE(t.line_plot()->graphCount(), 1);
    QVERIFY(t.compute_button()->isEnabled());  // a loaded log can be probed again
  }

  // Data-parallel from the Run setup: processes = 2 runs `metaadamw compare --nproc 2`, whose
  // logs the studio opens as they appear and follows to their end.
  void dataParallelRunsFromTheSetup() {
    const QString logs = tmp_.filePath("dp-logs");
    MainWindow w;
    w.show();
    w.setup().load_json(write_config("dp.json", R"({"task": "synthetic", "preset": "tiny",
        "steps": 40, "meta_update_freq": 10, "threads": 1})"));
    for (auto* e : w.setup().findChildren<QLineEdit*>())
      if (e->placeholderText().startsWith("no logging")) e->setText(logs);
    auto* processes = w.setup().findChild<QSpinBox*>("processes");
    QVERIFY(processes);
    processes->setValue(2);
    w.start();
    QVERIFY2(w.studio().running(), qPrintable(w.last_error()));
    QVERIFY(w.studio().data_parallel());
    QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 120000);
    QStringList seen;
    QDirIterator it(logs, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) seen << it.next();
    QVERIFY2(w.studio().runs().size() == 2,
             qPrintable(seen.join(", ") + " | " + w.last_error()));  // AdamW, MetaAdamW
    for (const auto& m : w.studio().runs()) {
      QCOMPARE(m->info().world_size, int64_t{2});
      QCOMPARE(QString::fromStdString(m->status()), QString("completed"));
      QCOMPARE(m->train_loss.appended(), size_t{40});
    }
  }

  // File › Open recent: the newest first, once each (by absolute path), and it opens them.
  void openRecentListsWhatWasOpened() {
    MainWindow w;
    const QString log = QString(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5";
    const QString relative = QDir::current().relativeFilePath(log);
    w.open_logs({log});
    w.open_logs({relative});  // the same file by another name: still one entry
    QMenu* recent = nullptr;
    for (auto* m : w.findChildren<QMenu*>())
      if (m->title() == "Open &recent") recent = m;
    QVERIFY(recent);
    QVERIFY(recent->isEnabled());
    const auto actions = recent->actions();
    QVERIFY(!actions.isEmpty());
    QCOMPARE(actions.first()->text(), QFileInfo(log).absoluteFilePath());
    int same = 0;
    for (auto* a : actions) same += a->text() == QFileInfo(log).absoluteFilePath();
    QCOMPARE(same, 1);
    w.studio().clear_finished();
    QCOMPARE(w.studio().runs().size(), size_t{0});
    actions.first()->trigger();
    QCOMPARE(w.studio().runs().size(), size_t{1});
  }

  // A plot whose lines hold one value (α = 1 before the first meta-update) shows it in the
  // middle of a narrow range, not at QCustomPlot's default −10…10.
  void aConstantLineIsFittedAroundItsValue() {
    QWidget parent;
    auto* p = maw::ui::make_plot(&parent, "α");
    auto* g = p->addGraph();
    g->setData(QVector<double>{0, 10, 20}, QVector<double>{1, 1, 1});
    maw::ui::range_to(p, 0, 0);
    const auto r = p->yAxis->range();
    QVERIFY2(r.contains(1.0) && r.lower > 0.9 && r.upper < 1.1,
             qPrintable(QString("%1 … %2").arg(r.lower).arg(r.upper)));
  }

  // Modulation's table bars: centred at 1× on a log scale, to the right for more.
  void centredBarsAreOnALogScale() {
    using maw::ui::centred_bar;
    const double span = std::log(4.0);
    QCOMPARE(centred_bar(1.0, span), std::make_pair(0.5, 0.5));   // as AdamW: no bar
    QCOMPARE(centred_bar(4.0, span), std::make_pair(0.5, 1.0));   // the column's largest
    QCOMPARE(centred_bar(0.25, span), std::make_pair(0.0, 0.5));  // as much less
    const auto half = centred_bar(2.0, span);                     // log scale: half way
    QVERIFY(std::abs(half.second - 0.75) < 1e-12);
    QCOMPARE(centred_bar(100.0, span), std::make_pair(0.5, 1.0));  // clamped
    QCOMPARE(centred_bar(NAN, span), std::make_pair(0.0, 0.0));
    QCOMPARE(centred_bar(-1.0, span), std::make_pair(0.0, 0.0));
  }

  void helpListsTheShortcuts() {
    const QString h = MainWindow::help_text();
    for (const char* s :
         {"F5", "F6", "F7", "Shift+F5", "Ctrl+O", "Shift+drag", "Esc", "Reset layout"})
      QVERIFY2(h.contains(s), s);
  }

  // A laptop's screen (1366×768, less a title bar and a panel) holds the window with a log
  // open, and still after a step range is selected: no panel asks for more.
  void theWindowFitsALaptopScreen() {
    MainWindow w;
    w.resize(1366, 700);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.open_logs({QString(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5"});
    QTest::qWait(200);
    auto fits = [&](const char* when) {
      const QSize hint = w.minimumSizeHint(), size = w.size();
      QString why = QString("%1: minimum %2x%3, size %4x%5; docks:")
                        .arg(when)
                        .arg(hint.width())
                        .arg(hint.height())
                        .arg(size.width())
                        .arg(size.height());
      for (auto* d : w.findChildren<QDockWidget*>())
        why += QString(" %1 %2x%3")
                   .arg(d->objectName())
                   .arg(d->minimumSizeHint().width())
                   .arg(d->minimumSizeHint().height());
      QVERIFY2(hint.width() <= 1366 && hint.height() <= 700, qPrintable(why));
      QVERIFY2(size.width() <= 1366 && size.height() <= 700, qPrintable(why));
    };
    fits("opened");
    w.studio().step_range().select(3, 6);
    QTest::qWait(200);
    fits("selected");
    for (const char* panel : {"attention", "modulation", "meta", "steps", "features", "groups"}) {
      show_panel(w, panel);
      QTest::qWait(50);
    }
    fits("every panel shown");
    // Reset layout: a panel floated out and one hidden come back docked and shown.
    auto* att = w.findChild<QDockWidget*>("attention");
    auto* steps = w.findChild<QDockWidget*>("steps");
    att->setFloating(true);
    steps->hide();
    w.reset_layout();
    QTest::qWait(50);
    QVERIFY(!att->isFloating());
    QVERIFY(!steps->isHidden());
    fits("layout reset");
  }

  // The default comparison trains its optimizers side by side (a step each in turn): both
  // curves grow from the start; "one after another" runs AdamW to its end first.
  void aComparisonGrowsBothOptimizersCurvesTogether() {
    for (const bool side_by_side : {true, false}) {
      MainWindow w;
      w.show();
      w.setup().load_json(write_config(
          "long_pair.json",
          R"({"task": "synthetic", "preset": "tiny", "steps": 100000, "threads": 1})"));
      w.setup().findChild<QComboBox*>("order")->setCurrentIndex(side_by_side ? 0 : 1);
      w.start();
      QVERIFY(w.studio().running());
      const auto& runs = w.studio().runs();
      QCOMPARE(runs.size(), size_t{2});
      QTRY_VERIFY_WITH_TIMEOUT(runs[0]->train_loss.appended() >= 50, 20000);
      const auto first = runs[0]->train_loss.appended(), second = runs[1]->train_loss.appended();
      if (side_by_side) {
        QVERIFY2(second + 10 >= first, qPrintable(QString("%1 vs %2").arg(first).arg(second)));
        QCOMPARE(runs[1]->status(), std::string("running"));
      } else {
        QCOMPARE(second, uint64_t{0});
        QCOMPARE(runs[1]->status(), std::string("queued"));
      }
      if (side_by_side) {  // honest status: paused, and stopping… until the runs end
        auto* status = w.statusBar()->findChildren<QLabel*>().first();
        w.studio().pause();
        QTRY_VERIFY2_WITH_TIMEOUT(status->text().endsWith("paused"), qPrintable(status->text()),
                                  5000);
        QTest::qWait(300);
        const auto held = runs[0]->train_loss.appended();
        QTest::qWait(300);
        QCOMPARE(runs[0]->train_loss.appended(), held);
        w.studio().resume();
        w.studio().stop();
        QTRY_VERIFY2_WITH_TIMEOUT(status->text().endsWith("stopping…") || !w.studio().running(),
                                  qPrintable(status->text()), 5000);
        QVERIFY2(!w.studio().running() || status->text().endsWith("stopping…"),
                 qPrintable(status->text()));
      } else {
        w.studio().stop();
      }
      QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 20000);
    }
  }

  // Closing the window during a run stops it within a step and finalizes its log.
  void closingDuringARunStopsItAndFinalizesTheLog() {
    const QString dir = tmp_.filePath("close_logs");
    auto* w = new MainWindow;
    w->show();
    w->setup().load_json(
        write_config("long.json", R"({"task": "synthetic", "preset": "tiny", "steps": 1000000,
                         "snapshot_every": 5, "threads": 1})"));
    // The log folder field: one log per run.
    const auto edits = w->setup().findChildren<QLineEdit*>();
    for (auto* e : edits)
      if (e->placeholderText().startsWith("no logging")) e->setText(dir);
    w->start();
    QTRY_VERIFY_WITH_TIMEOUT(
        !w->studio().runs().empty() && w->studio().runs()[0]->train_loss.appended() > 50, 60000);
    QVERIFY(w->studio().running());
    w->close();  // closeEvent: stop, wait for the engine thread, the log closes
    delete w;
    const QString log = QDir(dir).filePath("adamw-seed0.h5");
    QVERIFY(QFileInfo::exists(log));
    maw::RunLogReader r(log.toStdString());
    QCOMPARE(r.status(), std::string("stopped"));
    QVERIFY(r.rows("steps/loss") > 50);
  }

  // MetaAdamW's own learning rate reaches its runs only; a bad value starts nothing.
  void perOptimizerOverridesReachOnlyThatOptimizer() {
    MainWindow w;
    maw::RunConfig c;
    c.set("task", "synthetic");
    c.set("preset", "tiny");
    c.set("steps", "5");
    c.set("threads", "1");
    const QString dir = tmp_.filePath("override_logs");
    bool threw = false;
    try {
      w.studio().start(c, {"adamw", "metaadamw"}, 1, dir, {{"metaadamw", {{"lr", "fast"}}}});
    } catch (const maw::ConfigError&) {
      threw = true;
    }
    QVERIFY(threw);
    QVERIFY(!w.studio().running());
    QVERIFY(w.studio().runs().empty());
    QVERIFY(w.studio().start(c, {"adamw", "metaadamw"}, 1, dir,
                             {{"metaadamw", {{"lr", "0.0123"}, {"weight_decay", "0.0456"}}}}));
    QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 60000);
    auto config_of = [&](const char* file) {
      return QString::fromStdString(
          maw::RunLogReader(QDir(dir).filePath(file).toStdString()).attribute("config"));
    };
    const QString meta = config_of("metaadamw-seed0.h5"), plain = config_of("adamw-seed0.h5");
    QVERIFY2(meta.contains("0.0123") && meta.contains("0.0456"), qPrintable(meta));
    QVERIFY2(!plain.contains("0.0123") && !plain.contains("0.0456"), qPrintable(plain));
    // A second Start into the same folder keeps the first logs: it writes -2 files.
    QVERIFY(
        w.studio().start(c, {"adamw", "metaadamw"}, 1, dir, {{"metaadamw", {{"lr", "0.0077"}}}}));
    QTRY_VERIFY_WITH_TIMEOUT(!w.studio().running(), 60000);
    QVERIFY(config_of("metaadamw-seed0.h5").contains("0.0123"));
    QVERIFY(config_of("metaadamw-seed0-2.h5").contains("0.0077"));
    QVERIFY(QFileInfo::exists(QDir(dir).filePath("adamw-seed0-2.h5")));
  }

  // --figures: a compare's folder becomes curves (both optimizers, mean ± band) and the
  // first MetaAdamW seed's α, β per group, as PNG and SVG.
  void figuresOfACompareFolder() {
    const QString dir = tmp_.filePath("figures_runs"), out = tmp_.filePath("figures");
    QDir().mkpath(dir);
    for (const char* opt : {"adamw", "metaadamw"})
      for (int seed = 0; seed < 2; ++seed) {
        maw::RunConfig c;
        c.set("task", "synthetic");
        c.set("preset", "tiny");
        c.set("optimizer", opt);
        c.set("seed", std::to_string(seed));
        c.set("steps", "40");
        c.set("eval_every", "10");
        c.set("snapshot_every", "2");
        c.set("meta_update_freq", "10");
        c.set("threads", "1");
        maw::Session s(c);
        auto w = maw::make_run_log_writer(
            QDir(dir).filePath(QString("%1-seed%2.h5").arg(opt).arg(seed)).toStdString(),
            s.config(), true);
        s.add_observer(w.get());
        QVERIFY(s.run().status == maw::RunStatus::completed);
      }
    maw::ui::FigureOptions o;
    o.size = QSize(900, 400);
    const auto files = maw::ui::write_figures({dir}, out, o);
    QCOMPARE(files.size(), size_t{4});
    for (const char* name : {"curves.png", "curves.svg", "modulation.png", "modulation.svg"})
      QVERIFY2(QFileInfo(QDir(out).filePath(name)).size() > 1000, name);
    // Each optimizer's colour is in the curves; the PNG is at twice the size.
    const QImage curves(QDir(out).filePath("curves.png"));
    QCOMPARE(curves.size(), QSize(1800, 800));
    auto count = [](const QImage& img, QColor c) {
      int n = 0;
      for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x) {
          const QColor p = img.pixelColor(x, y);
          n += std::abs(p.red() - c.red()) + std::abs(p.green() - c.green()) +
                   std::abs(p.blue() - c.blue()) <
               30;
        }
      return n;
    };
    QVERIFY(count(curves, maw::ui::optimizer_color("adamw")) > 300);
    QVERIFY(count(curves, maw::ui::optimizer_color("metaadamw")) > 300);
    const QImage modulation(QDir(out).filePath("modulation.png"));
    QVERIFY(count(modulation, maw::ui::group_color(0)) > 200);
    // Bad inputs: one line each.
    bool threw = false;
    try {
      maw::ui::write_figures({tmp_.filePath("nothing-here")}, out, o);
    } catch (const maw::DataError& e) {
      threw = QString(e.what()).contains("no such file");
    }
    QVERIFY(threw);
    threw = false;
    try {
      maw::ui::write_figures({out}, out, o);  // a folder without logs
    } catch (const maw::DataError& e) {
      threw = QString(e.what()).contains("holds no run logs");
    }
    QVERIFY(threw);
  }

  void anOpenedLogFillsEveryPanel() {
    const QString log = tmp_.filePath("fixture.h5");
    {
      maw::RunConfig c;
      c.set("task", "synthetic");
      c.set("preset", "tiny");
      c.set("optimizer", "metaadamw");
      c.set("steps", "30");
      c.set("eval_every", "10");
      c.set("snapshot_every", "1");
      c.set("attention_every", "10");
      c.set("meta_update_freq", "10");
      c.set("threads", "1");
      maw::Session s(c);
      auto w = maw::make_run_log_writer(log.toStdString(), s.config(), true);
      s.add_observer(w.get());
      QVERIFY(s.run().status == maw::RunStatus::completed);
    }
    MainWindow w;
    w.show();
    w.open_logs({log, tmp_.filePath("missing.h5")});
    QCOMPARE(w.studio().runs().size(), size_t{1});
    QVERIFY(w.last_error().contains("no such file"));  // shown, not a crash
    const auto& m = *w.studio().runs()[0];
    const auto G = static_cast<int>(m.info().group_names.size());
    QCOMPARE(w.curves().loss_plot()->graph(1)->dataCount(), 30);
    QCOMPARE(w.modulation().plot()->graphCount(), G);
    QCOMPARE(w.modulation().plot()->graph(0)->dataCount(), 30);
    QCOMPARE(w.features().plot()->graphCount(), G);
    show_panel(w, "attention");
    QCOMPARE(w.attention().map_size(), G);
    // Meta shares a tab with Features: a hidden panel refreshes when it is shown.
    show_panel(w, "meta");
    QTRY_VERIFY(w.meta().plot()->graphCount() > 0);
    QVERIFY(w.meta().plot()->graph(0)->dataCount() >= 2);
    // Steps lists the codec's per-step series, the gradient norm among them.
    show_panel(w, "steps");
    QTRY_VERIFY(w.steps().series()->findText("grad_norm") >= 0);
    QVERIFY(w.steps().series()->findText("lr") >= 0);
    QVERIFY(w.steps().series()->findText("step") < 0);                  // the x axis is no series
    QCOMPARE(w.steps().series()->currentText(), QString("grad_norm"));  // first shown
    QCOMPARE(w.steps().plot()->graphCount(), 1);
    QCOMPARE(w.steps().plot()->graph(0)->dataCount(), 30);
    auto* tree = w.findChild<QTreeWidget*>();
    QVERIFY(tree);
    QCOMPARE(tree->topLevelItemCount(), G);
    // Group → tensors with shapes and sizes; the tensors' sizes add up to the group's.
    for (int g = 0; g < G; ++g) {
      const auto* item = tree->topLevelItem(g);
      QVERIFY(item->childCount() > 0);
      qlonglong sum = 0;
      for (int t = 0; t < item->childCount(); ++t) {
        const QString shape = item->child(t)->text(2);
        QVERIFY2(!shape.isEmpty(), qPrintable(item->child(t)->text(0)));
        qlonglong n = 1;
        if (shape != "()")
          for (const auto& d : shape.split(QChar(0x00D7))) n *= d.toLongLong();
        QCOMPARE(QLocale().toLongLong(item->child(t)->text(1)), n);
        sum += n;
      }
      QCOMPARE(QLocale().toLongLong(item->text(1)), sum);
    }

    // A step range selected in Curves filters the other panels; clearing it restores them.
    QCOMPARE(w.attention().shown_step(), int64_t{30});  // follows the newest map
    w.curves().set_selection(10, 20);
    QCOMPARE(w.curves().selection(), std::make_pair(10.0, 20.0));
    QCOMPARE(w.modulation().plot()->xAxis->range().lower, 10.0);
    QCOMPARE(w.modulation().plot()->xAxis->range().upper, 20.0);
    QCOMPARE(w.meta().plot()->xAxis->range().upper, 20.0);
    QCOMPARE(w.steps().plot()->xAxis->range().lower, 10.0);  // every panel, one StepRange
    QCOMPARE(w.studio().step_range().selection(), std::make_pair(10.0, 20.0));
    QCOMPARE(w.attention().shown_step(), int64_t{20});  // maps at 10, 20 are reachable
    w.curves().clear_selection();
    QVERIFY(w.modulation().plot()->xAxis->range().upper >= 30.0);
    QCOMPARE(w.attention().shown_step(), int64_t{30});

    // The same with the mouse: Shift+drag across the loss plot selects.
    auto* loss = w.curves().loss_plot();
    const int y = loss->axisRect()->center().y();
    const int x0 = static_cast<int>(loss->xAxis->coordToPixel(5));
    const int x1 = static_cast<int>(loss->xAxis->coordToPixel(25));
    auto send = [&](QEvent::Type type, int x, Qt::MouseButtons buttons) {
      QMouseEvent e(type, QPointF(x, y), loss->mapToGlobal(QPointF(x, y)), Qt::LeftButton, buttons,
                    Qt::ShiftModifier);
      QApplication::sendEvent(loss, &e);
    };
    send(QEvent::MouseButtonPress, x0, Qt::LeftButton);
    send(QEvent::MouseMove, (x0 + x1) / 2, Qt::LeftButton);
    send(QEvent::MouseMove, x1, Qt::LeftButton);
    send(QEvent::MouseButtonRelease, x1, Qt::NoButton);
    const auto [lo, hi] = w.curves().selection();
    QVERIFY2(lo >= 3 && lo <= 6 && hi >= 24 && hi <= 27,
             qPrintable(QString("selected %1 – %2").arg(lo).arg(hi)));
    QCOMPARE(w.modulation().plot()->xAxis->range().lower, lo);
  }

  // Modulation: log y switches the axis, smoothing draws the EMA, the per-group table has
  // one row per group with plausible means that follow the step range and sort.
  void modulationControlsAndTheGroupTable() {
    const QString log = tmp_.filePath("fixture.h5");  // from anOpenedLogFillsEveryPanel
    QVERIFY(QFileInfo::exists(log));
    MainWindow w;
    w.show();
    w.open_logs({log});
    const auto& m = *w.studio().runs().at(0);
    const auto G = static_cast<int>(m.info().group_names.size());
    show_panel(w, "modulation");
    auto& mod = w.modulation();
    auto* plot = mod.plot();
    QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLinear);  // α
    mod.log_y()->setChecked(true);
    QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLogarithmic);
    mod.log_y()->setChecked(false);
    QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLinear);
    mod.quantity()->setCurrentIndex(4);  // effective lr: log by default, the box follows
    QVERIFY(mod.log_y()->isChecked());
    QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLogarithmic);
    mod.quantity()->setCurrentIndex(0);
    QVERIFY(!mod.log_y()->isChecked());
    QVERIFY(plot->yAxis->range().contains(1.0));  // α, β: AdamW's factor always in view

    // Smoothing: every group's line is the trace's EMA.
    mod.smoothing()->setValue(50);
    QCOMPARE(plot->graphCount(), G);
    QCOMPARE(plot->graph(0)->dataCount(), 30);
    const auto smooth = maw::ui::ema(m.factors[0][0], 0.5);
    QCOMPARE((plot->graph(0)->data()->constEnd() - 1)->value, smooth.back());
    QVERIFY(plot->yAxis->label().contains("smoothed"));
    mod.smoothing()->setValue(0);
    QCOMPARE((plot->graph(0)->data()->constEnd() - 1)->value, m.factors[0][0].last_value());

    // Features has the same log y and smoothing.
    auto& features = w.features();
    features.log_y()->setChecked(true);
    QCOMPARE(features.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    features.log_y()->setChecked(false);
    QCOMPARE(features.plot()->yAxis->scaleType(), QCPAxis::stLinear);
    QVERIFY(!features.summary());  // the table is Modulation's

    // The table: one row per group, in the groups' order; plausible values.
    auto* table = mod.summary();
    QCOMPARE(table->rowCount(), G);
    QVERIFY(table->horizontalHeaderItem(GroupPlotView::kLrRatio)->text().contains("own η"));
    auto number = [table](int row, int col) {
      return table->item(row, col)->data(Qt::UserRole).toDouble();
    };
    for (int g = 0; g < G; ++g) {
      QCOMPARE(table->item(g, GroupPlotView::kGroup)->text(),
               QString::fromStdString(m.info().group_names[static_cast<size_t>(g)]));
      const auto& alpha = m.factors[static_cast<size_t>(g)][0].values();
      const auto [lo, hi] = std::minmax_element(alpha.begin(), alpha.end());
      const double a = number(g, GroupPlotView::kAlpha);
      QVERIFY2(a >= *lo - 1e-6 && a <= *hi + 1e-6, qPrintable(QString::number(a)));
      QVERIFY(number(g, GroupPlotView::kBeta) > 0);
      QVERIFY(number(g, GroupPlotView::kEffectiveLr) > 0);
      QVERIFY(std::isfinite(number(g, GroupPlotView::kEffectiveWd)));
      // Against its own η the ratio is an η-weighted mean of α.
      const double ratio = number(g, GroupPlotView::kLrRatio);
      QVERIFY2(ratio >= *lo - 1e-6 && ratio <= *hi + 1e-6, qPrintable(QString::number(ratio)));
      QVERIFY(table->item(g, GroupPlotView::kLrRatio)->text().endsWith("×"));
    }
    QVERIFY(mod.summary_caption()->text().contains("the whole run (30 snapshots)"));
    const auto design = QString::fromStdString(m.info().modulator_design);
    QVERIFY(!design.isEmpty());  // a schema v2 log
    QVERIFY2(mod.summary_caption()->text().contains("<b>" + design + "</b> design"),
             qPrintable(mod.summary_caption()->text()));
    const auto pickers = mod.findChildren<QComboBox*>();
    QVERIFY(std::any_of(pickers.begin(), pickers.end(), [&](const QComboBox* c) {
      return c->currentText().startsWith("metaadamw (" + design + ") · seed 0");
    }));

    // Sorting by mean α orders the rows; sorting by group restores the groups' order.
    table->sortItems(GroupPlotView::kAlpha, Qt::DescendingOrder);
    for (int row = 1; row < G; ++row)
      QVERIFY(number(row - 1, GroupPlotView::kAlpha) >= number(row, GroupPlotView::kAlpha));
    table->sortItems(GroupPlotView::kGroup, Qt::AscendingOrder);
    for (int row = 0; row < G; ++row) QCOMPARE(number(row, GroupPlotView::kGroup), row);

    // A step range: the means cover its snapshots only (snapshot_every 1: steps 10 … 20).
    w.curves().set_selection(10, 20);
    QVERIFY2(mod.summary_caption()->text().contains("steps 10–20 (11 snapshots)"),
             qPrintable(mod.summary_caption()->text()));
    double sum = 0;
    const auto& t = m.factors[0][0];
    int n = 0;
    for (size_t i = 0; i < t.size(); ++i)
      if (t.steps()[i] >= 10 && t.steps()[i] <= 20) {
        sum += t.values()[i];
        ++n;
      }
    QCOMPARE(n, 11);
    QVERIFY(std::abs(number(0, GroupPlotView::kAlpha) - sum / n) < 1e-9);
  }

  // The run pickers show the first MetaAdamW run, also when an AdamW log was opened
  // before it; a run the user picked stays picked while runs come and go.
  void pickersShowTheFirstMetaAdamWRunUntilOneIsPicked() {
    const QString meta_log = tmp_.filePath("fixture.h5");  // from anOpenedLogFillsEveryPanel
    QVERIFY(QFileInfo::exists(meta_log));
    const QString adamw_log = tmp_.filePath("adamw-fixture.h5");
    {
      maw::RunConfig c;
      c.set("task", "synthetic");
      c.set("preset", "tiny");
      c.set("optimizer", "adamw");
      c.set("steps", "5");
      c.set("threads", "1");
      maw::Session s(c);
      auto w = maw::make_run_log_writer(adamw_log.toStdString(), s.config(), true);
      s.add_observer(w.get());
      QVERIFY(s.run().status == maw::RunStatus::completed);
    }
    MainWindow w;
    w.show();
    w.open_logs({adamw_log});
    w.open_logs({meta_log});
    auto* picker = w.modulation().findChild<QComboBox*>();
    QVERIFY(picker);
    QVERIFY2(picker->currentText().startsWith("metaadamw"), qPrintable(picker->currentText()));
    QCOMPARE(w.modulation().plot()->graphCount(),
             static_cast<int>(w.studio().runs()[1]->info().group_names.size()));
    picker->setCurrentIndex(0);  // as the user: AdamW's run
    emit picker->activated(0);
    w.open_logs({meta_log});
    QCOMPARE(w.studio().runs().size(), size_t{3});
    QVERIFY2(picker->currentText().startsWith("adamw"), qPrintable(picker->currentText()));
  }

  // The command line (app/studio): --screenshots with logs shows them and starts no run;
  // without logs, or with --start, the setup's comparison runs first and the screenshots
  // follow it; a panel size saves each panel at that size.
  void commandLineScreenshotsStartARunOnlyWhenAsked() {
    const QString log = tmp_.filePath("fixture.h5");  // from anOpenedLogFillsEveryPanel
    QVERIFY(QFileInfo::exists(log));
    const QString config = write_config(
        "shots.json", R"({"task": "synthetic", "preset": "tiny", "steps": 3, "threads": 1})");
    struct Case {
      QStringList logs;
      bool start;
      size_t runs;  // the logs' and the started ones
      QSize panel;  // --panel-size
    };
    for (const auto& [logs, start, runs, panel] :
         {Case{{log}, false, 1, QSize(1100, 600)}, Case{{}, false, 2, {}},
          Case{{log}, true, 3, {}}}) {
      const QString what = QString("%1 log(s), --start %2").arg(logs.size()).arg(start);
      MainWindow w;
      w.show();
      w.setup().load_json(config);
      const QString dir = tmp_.filePath(QString("shots_%1_%2").arg(logs.size()).arg(start));
      int calls = 0;
      bool ok = false;
      w.run_command_line({logs, start, dir, {1, 2}, panel}, [&](bool r) {
        ++calls;
        ok = r;
      });
      QCOMPARE(w.studio().running(), runs > static_cast<size_t>(logs.size()));
      QTRY_VERIFY_WITH_TIMEOUT(calls == 1, 60000);
      QVERIFY2(ok, qPrintable(what));
      QVERIFY2(w.studio().runs().size() == runs, qPrintable(what));
      for (const auto& r : w.studio().runs())
        QVERIFY2(r->status() == "completed", qPrintable(what));
      QCOMPARE(w.curves().selection(), std::make_pair(1.0, 2.0));
      for (const char* file : {"studio.png", "curves.png", "modulation.png", "modulation-beta.png",
                               "meta.png", "meta-diagnostics.png"})
        QVERIFY2(!QImage(QDir(dir).filePath(file)).isNull(), file);
      if (panel.isValid()) {  // each panel at that size, docked again afterwards
        for (const char* file : {"modulation.png", "meta-diagnostics.png", "groups.png"})
          QCOMPARE(QImage(QDir(dir).filePath(file)).size(), panel);
        for (auto* d : w.findChildren<QDockWidget*>()) QVERIFY(!d->isFloating());
      }
    }
  }

  // Meta: the meta-gradient norm per block (log y), the modulator's relative change (log
  // y) and the at-bound fractions (0 … 1) beside the objective, following the step range.
  void metaPanelHasTheDiagnosticsPlots() {
    const QString log = tmp_.filePath("fixture.h5");
    MainWindow w;
    w.show();
    w.open_logs({log});
    show_panel(w, "meta");
    auto& meta = w.meta();
    QTRY_VERIFY(meta.plot()->graphCount() > 0);
    // Two pages: the objective (shown first) and the diagnostics.
    QCOMPARE(meta.pages()->count(), 2);
    QVERIFY(meta.pages()->tabText(1).startsWith("Diagnostics"));
    auto* grad = meta.grad_norm_plot();
    auto* change = meta.rel_change_plot();
    auto* bound = meta.at_bound_plot();
    QCOMPARE(grad->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(change->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(bound->yAxis->scaleType(), QCPAxis::stLinear);
    // One line per block the run has (1 … 8), three parts, four factors; a point for each
    // meta-update.
    QVERIFY(grad->graphCount() >= 1 && grad->graphCount() <= 8);
    for (int i = 0; i < grad->graphCount(); ++i) QVERIFY(!grad->graph(i)->name().isEmpty());
    QCOMPARE(change->graphCount(), 3);
    QCOMPARE(bound->graphCount(), 4);
    QCOMPARE(bound->graph(0)->name(), QString("α"));
    const auto updates = static_cast<int>(w.studio().runs()[0]->meta_ms.appended());
    QVERIFY(updates >= 2);
    QCOMPARE(bound->graph(0)->dataCount(), updates);
    QVERIFY(bound->yAxis->range().lower >= -0.05 && bound->yAxis->range().upper <= 1.05);
    w.curves().set_selection(10, 20);
    for (auto* p : {grad, change, bound}) {
      QCOMPARE(p->xAxis->range().lower, 10.0);
      QCOMPARE(p->xAxis->range().upper, 20.0);
    }
    QVERIFY(bound->yAxis->range().upper <= 1.05);  // still the fraction's scale
  }
};

QTEST_MAIN(StudioTest)
#include "studio_test.moc"
