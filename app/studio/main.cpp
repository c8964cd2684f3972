// metaadamw-studio: the desktop application. Thin: parse, wire, run.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

#include "studio/main_window.h"
#include "studio/setup_panel.h"
#include "studio/studio.h"
#include "studio/views.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("MetaAdamW");
  QApplication::setApplicationName("MetaAdamW Studio");
  QApplication::setApplicationVersion("0.1.0");
  QCommandLineParser cli;
  cli.setApplicationDescription(
      "Train with MetaAdamW beside AdamW and watch: curves, per-group modulation, features,\n"
      "attention maps, meta-objective; open HDF5 run logs (also while they grow).");
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument("logs", "run logs (.h5) to open");
  QCommandLineOption start({"s", "start"}, "start the comparison in the run setup at once");
  QCommandLineOption shots("screenshots",
                           "after the run(s), save every panel as PNG in DIR and quit", "DIR");
  QCommandLineOption config({"c", "config"}, "load the run setup from a JSON file", "FILE");
  cli.addOptions({start, shots, config});
  cli.process(app);

  maw::ui::MainWindow w;
  w.resize(1500, 950);
  w.show();
  w.open_logs(cli.positionalArguments());
  if (cli.isSet(config)) {
    try {
      w.setup().load_json(cli.value(config));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "metaadamw-studio: %s\n", e.what());
      return 2;
    }
  }
  if (cli.isSet(start) || cli.isSet(shots)) w.start();
  if (cli.isSet(shots)) {
    const QString dir = cli.value(shots);
    auto* poll = new QTimer(&w);
    QObject::connect(poll, &QTimer::timeout, &w, [&w, dir, poll] {
      if (w.studio().running()) return;
      poll->stop();
      QTimer::singleShot(500, &w, [&w, dir] {
        const bool ok = w.save_screenshots(dir);
        QApplication::exit(ok ? 0 : 1);
      });
    });
    poll->start(200);
  }
  return QApplication::exec();
}
