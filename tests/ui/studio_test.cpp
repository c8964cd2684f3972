// The studio, offscreen (QtTest): the window opens; a tiny comparison streams into the
// curves; the attention heatmap is G×G; a log opened from disk fills every panel; the
// exports write a valid PNG and CSV.
#include <qcustomplot.h>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLineEdit>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "api/errors.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/session.h"
#include "studio/main_window.h"
#include "studio/setup_panel.h"
#include "studio/studio.h"
#include "studio/views.h"

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

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("MetaAdamW-test");  // no user settings touched
    QVERIFY(tmp_.isValid());
  }

  void windowOpensWithEveryPanel() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QStringList docks;
    for (auto* d : w.findChildren<QDockWidget*>()) docks << d->objectName();
    docks.sort();
    QCOMPARE(docks,
             QStringList({"attention", "features", "groups", "meta", "modulation", "setup"}));
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
    QCOMPARE(w.attention().map_size(), G);
    QCOMPARE(w.modulation().plot()->graphCount(), G);

    // Exports: a PNG that loads, a CSV with the visible points.
    const QString png = tmp_.filePath("curves.png"), csv = tmp_.filePath("curves.csv");
    QVERIFY(w.export_plot(png));
    QImage img(png);
    QVERIFY(!img.isNull());
    QVERIFY(img.width() > 100);
    const QString svg = tmp_.filePath("curves.svg"), pdf = tmp_.filePath("curves.pdf");
    QVERIFY(w.export_plot(svg));
    QFile s(svg);
    QVERIFY(s.open(QIODevice::ReadOnly));
    const QByteArray svg_text = s.readAll();
    QVERIFY2(svg_text.contains("<svg"), svg_text.left(200).constData());
    QVERIFY(w.export_plot(pdf));
    QVERIFY(QFileInfo(pdf).size() > 1000);
    QVERIFY(w.export_csv(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(), QString("plot,graph,x,y"));
    QCOMPARE(lines.size(), 1 + 4 * 40 + 2 * 4);
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
      auto w = maw::make_run_log_writer(log.toStdString(), s.config());
      s.add_observer(w.get());
      QCOMPARE(s.run().status, std::string("completed"));
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
    QCOMPARE(w.attention().map_size(), G);
    // Meta shares a tab with Features: a hidden panel refreshes when it is shown.
    for (auto* d : w.findChildren<QDockWidget*>())
      if (d->objectName() == "meta") d->raise();
    QTRY_VERIFY(w.meta().plot()->graphCount() > 0);
    QVERIFY(w.meta().plot()->graph(0)->dataCount() >= 2);
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
};

QTEST_MAIN(StudioTest)
#include "studio_test.moc"
