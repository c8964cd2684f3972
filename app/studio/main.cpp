// metaadamw-studio: the desktop application. Thin: parse, wire, run.
#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <algorithm>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "api/errors.h"
#include "studio/figures.h"

#include "studio/main_window.h"
#include "studio/setup_panel.h"
#include "studio/studio.h"
#include "studio/theme.h"
#include "studio/views.h"

namespace {

// Modes that open no window (--figures, --help, --version) run without a display: Qt's
// offscreen platform, unless the user chose a platform.
void offscreen_for_windowless_modes(int argc, char** argv) {
  if (std::getenv("QT_QPA_PLATFORM")) return;
  const bool display = std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const bool figures = std::strncmp(a, "--figures", 9) == 0;
    const bool help = !std::strcmp(a, "--help") || !std::strcmp(a, "-h") ||
                      !std::strcmp(a, "--help-all") || !std::strcmp(a, "--version") ||
                      !std::strcmp(a, "-v");
    if (figures || (help && !display)) {
      setenv("QT_QPA_PLATFORM", "offscreen", 1);
      return;
    }
  }
}

int figures_main(const QCommandLineParser& cli, const QCommandLineOption& figures,
                 const QCommandLineOption& band, const QCommandLineOption& smoothing) {
  maw::ui::FigureOptions o;
  const QString b = cli.value(band);
  if (b != "std" && b != "minmax") {
    std::fprintf(stderr, "metaadamw-studio: --band: expected std or minmax, got '%s'\n",
                 qPrintable(b));
    return 2;
  }
  o.min_max = b == "minmax";
  bool ok = false;
  o.smoothing = cli.value(smoothing).toDouble(&ok);
  if (!ok || !(o.smoothing >= 0 && o.smoothing < 1)) {
    std::fprintf(stderr, "metaadamw-studio: --smoothing: expected a number in [0, 1), got '%s'\n",
                 qPrintable(cli.value(smoothing)));
    return 2;
  }
  if (cli.positionalArguments().isEmpty()) {
    std::fprintf(stderr,
                 "metaadamw-studio: --figures DIR needs run logs, a compare's folder or a "
                 "study's folder to draw\n");
    return 2;
  }
  try {
    for (const QString& f :
         maw::ui::write_figures(cli.positionalArguments(), cli.value(figures), o))
      std::printf("%s\n", qPrintable(f));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metaadamw-studio: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  offscreen_for_windowless_modes(argc, argv);
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
                           "save every panel as PNG in DIR and quit: after the run(s) when a run "
                           "starts (--start, or no logs given), else at once with the logs",
                           "DIR");
  QCommandLineOption config({"c", "config"}, "load the run setup from a JSON file", "FILE");
  QCommandLineOption palette("palette", "desktop (default: follow the desktop), light or dark",
                             "NAME", "desktop");
  QCommandLineOption select(
      "select-steps", "select steps LO:HI in Curves (the other panels show that range)", "LO:HI");
  QCommandLineOption panel_size(
      "panel-size",
      "with --screenshots: save each panel at WxH, or at its minimum size where larger (floated "
      "out of the window for its picture), instead of its size in the window's layout",
      "WxH");
  QCommandLineOption figures(
      "figures",
      "write figures of the logs (or of a compare's or a study's folder) into DIR as PNG and "
      "SVG and quit, without a window: curves.* (per optimizer, mean over seeds with a band: "
      "training loss and evaluation metric) and modulation.* (alpha and beta per group of "
      "the first MetaAdamW seed)",
      "DIR");
  QCommandLineOption band("band", "with --figures: the seed band, std (mean ± 1 std) or minmax",
                          "KIND", "std");
  QCommandLineOption smoothing(
      "smoothing", "with --figures: EMA smoothing of each seed's training loss, in [0, 1)", "S",
      "0.9");
  QCommandLineOption show(
      "show",
      "bring a panel to the front: curves, steps, modulation, features, attention, meta, "
      "trajectory, study, setup or groups",
      "PANEL");
  cli.addOptions(
      {start, shots, config, palette, select, panel_size, figures, band, smoothing, show});
  cli.process(app);
  if (cli.isSet(figures)) return figures_main(cli, figures, band, smoothing);
  if (!maw::ui::apply_palette(cli.value(palette))) {
    std::fprintf(stderr, "metaadamw-studio: --palette: expected desktop, light or dark, got '%s'\n",
                 qPrintable(cli.value(palette)));
    return 2;
  }

  maw::ui::MainWindow w;
  // 1500×950, or the screen less room for a window frame, whichever is smaller (a
  // 1366×768 laptop: the whole window on screen).
  const QRect screen = w.screen() ? w.screen()->availableGeometry() : QRect(0, 0, 1500, 990);
  w.resize(std::min(1500, screen.width()), std::min(950, screen.height() - 40));
  w.show();
  if (cli.isSet(config)) {
    try {
      w.setup().load_json(cli.value(config));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "metaadamw-studio: %s\n", e.what());
      return 2;
    }
  }
  if (cli.isSet(show) && !w.show_panel(cli.value(show))) {
    std::fprintf(stderr, "metaadamw-studio: --show: no panel named '%s'\n",
                 qPrintable(cli.value(show)));
    return 2;
  }
  maw::ui::MainWindow::CommandLine run;
  run.logs = cli.positionalArguments();
  run.start = cli.isSet(start);
  run.screenshots_dir = cli.value(shots);
  if (cli.isSet(select)) {
    const auto parts = cli.value(select).split(':');
    bool ok_lo = false, ok_hi = false;
    if (parts.size() == 2) run.selection = {parts[0].toDouble(&ok_lo), parts[1].toDouble(&ok_hi)};
    if (!ok_lo || !ok_hi || run.selection.second <= run.selection.first) {
      std::fprintf(stderr,
                   "metaadamw-studio: --select-steps: expected LO:HI with LO < HI, got '%s'\n",
                   qPrintable(cli.value(select)));
      return 2;
    }
  }
  if (cli.isSet(panel_size)) {
    const auto parts = cli.value(panel_size).split('x');
    bool ok_w = false, ok_h = false;
    if (parts.size() == 2) run.panel_size = QSize(parts[0].toInt(&ok_w), parts[1].toInt(&ok_h));
    if (!ok_w || !ok_h || run.panel_size.width() < 100 || run.panel_size.height() < 100) {
      std::fprintf(stderr,
                   "metaadamw-studio: --panel-size: expected WxH of at least 100x100, got '%s'\n",
                   qPrintable(cli.value(panel_size)));
      return 2;
    }
  }
  w.run_command_line(run, [](bool ok) { QApplication::exit(ok ? 0 : 1); });
  return QApplication::exec();
}
