// `metaadamw landscape` and `metaadamw interpolate` (issue step 14, item 3): the probes of
// api/probe.h from the command line, with progress on stderr and Ctrl-C to cancel.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "api/errors.h"
#include "api/probe.h"
#include "cli/args.h"
#include "cli/log_commands.h"
#include "cli/studies.h"
#include "services/summary_json.h"

namespace maw::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_probe_interrupt(int) {
  g_cancel.store(true);
}

// Cancel on Ctrl-C; progress on stderr (rewritten in place on a terminal, else every tenth).
ProbeControl control(const char* what) {
  g_cancel.store(false);
  std::signal(SIGINT, on_probe_interrupt);
  std::signal(SIGTERM, on_probe_interrupt);
  ProbeControl c;
  c.cancelled = [] { return g_cancel.load(); };
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  c.progress = [what, tty](int64_t done, int64_t total) {
    if (tty)
      std::fprintf(stderr, "\r%s: %lld of %lld points%s", what, static_cast<long long>(done),
                   static_cast<long long>(total), done == total ? "\n" : "");
    else if (done == total || done % std::max<int64_t>(1, total / 10) == 0)
      std::fprintf(stderr, "%s: %lld of %lld points\n", what, static_cast<long long>(done),
                   static_cast<long long>(total));
  };
  return c;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

int landscape(const Command& cmd, std::FILE* out) {
  LandscapeRequest req;
  req.grid = cmd.probe_grid;
  req.half_width = cmd.probe_range;
  req.threads = cmd.probe_threads;
  if (!cmd.probe_center.empty()) {
    const auto comma = cmd.probe_center.find(',');
    req.at_end = false;
    req.center_x = std::stod(cmd.probe_center.substr(0, comma));
    req.center_y = std::stod(cmd.probe_center.substr(comma + 1));
  }
  const auto t0 = std::chrono::steady_clock::now();
  bool cached = false;
  const auto l = probe_landscape(cmd.positional[0], req, control("landscape"), &cached);
  const double s = seconds_since(t0);
  const auto n = static_cast<int64_t>(req.grid);
  float lo = l.loss[0], hi = l.loss[0];
  for (float v : l.loss) lo = std::min(lo, v), hi = std::max(hi, v);
  const float centre = l.loss[static_cast<size_t>((n / 2) * n + n / 2)];
  if (cmd.json) {
    nlohmann::ordered_json j;
    j["schema"] = "metaadamw-landscape";
    j["log"] = cmd.positional[0];
    j["step"] = l.step;
    j["grid"] = n;
    j["center"] = {l.center_x, l.center_y};
    j["anchor"] = {l.anchor_or_center_x(), l.anchor_or_center_y()};
    j["half_width"] = l.half_width;
    j["examples"] = l.examples;
    j["cached"] = cached;
    j["seconds"] = s;
    auto rows = nlohmann::ordered_json::array();
    for (int64_t i = 0; i < n; ++i)
      rows.push_back(std::vector<float>(l.loss.begin() + i * n, l.loss.begin() + (i + 1) * n));
    j["loss"] = rows;
    std::fprintf(out, "%s\n", json_text(j).c_str());
    return kExitOk;
  }
  std::fprintf(out,
               "landscape of %s (step %lld)\n"
               "  plane:   directions 1, 2 through the run's end at (%.6g, %.6g)\n"
               "  grid:    %lld × %lld around (%.6g, %.6g), half-width %.6g\n"
               "  batch:   the evaluation split's first %lld examples\n"
               "  loss:    %.6g to %.6g; %.6g at the centre\n"
               "  %s\n",
               cmd.positional[0].c_str(), static_cast<long long>(l.step), l.anchor_or_center_x(),
               l.anchor_or_center_y(), static_cast<long long>(n), static_cast<long long>(n),
               l.center_x, l.center_y, l.half_width, static_cast<long long>(l.examples), lo, hi,
               centre,
               cached ? "read from the log (computed before)"
                      : ("computed in " + seconds_text(s) + ", stored in the log").c_str());
  return kExitOk;
}

int interpolate(const Command& cmd, std::FILE* out) {
  const auto t0 = std::chrono::steady_clock::now();
  bool cached = false;
  const auto r = probe_interpolation(cmd.positional[0], cmd.positional[1], cmd.probe_points,
                                     control("interpolate"), cmd.probe_threads, &cached);
  const double s = seconds_since(t0);
  // The barrier (Goodfellow et al.): the highest loss between the two ends above the higher end.
  double at0 = 0, at1 = 0, top = -1e300;
  for (size_t i = 0; i < r.alpha.size(); ++i) {
    const double a = r.alpha[i], v = r.loss[i];
    if (std::abs(a) < 1e-6) at0 = v;
    if (std::abs(a - 1) < 1e-6) at1 = v;
    if (a >= -1e-6 && a <= 1 + 1e-6) top = std::max(top, v);
  }
  const double barrier = top - std::max(at0, at1);
  if (cmd.json) {
    nlohmann::ordered_json j;
    j["schema"] = "metaadamw-interpolation";
    j["from"] = cmd.positional[0];
    j["to"] = cmd.positional[1];
    j["examples"] = r.examples;
    j["alpha"] = r.alpha;
    j["loss"] = r.loss;
    j["barrier"] = barrier;
    j["cached"] = cached;
    j["seconds"] = s;
    std::fprintf(out, "%s\n", json_text(j).c_str());
    return kExitOk;
  }
  std::fprintf(out,
               "loss along (1 − a)·θ_A + a·θ_B on the evaluation split's first %lld examples\n"
               "  A (a = 0): %s\n  B (a = 1): %s\n\n       a        loss\n",
               static_cast<long long>(r.examples), cmd.positional[0].c_str(), r.other.c_str());
  for (size_t i = 0; i < r.alpha.size(); ++i)
    std::fprintf(out, "  %6.3f  %10.6g%s\n", r.alpha[i], r.loss[i],
                 std::abs(r.alpha[i]) < 1e-6       ? "  ← A"
                 : std::abs(r.alpha[i] - 1) < 1e-6 ? "  ← B"
                                                   : "");
  std::fprintf(out, "\nbarrier between A and B: %.6g above the higher end (%s)\n", barrier,
               cached ? "read from the log"
                      : ("computed in " + seconds_text(s) + ", stored in both logs").c_str());
  return kExitOk;
}

}  // namespace

int probe_command(const Command& cmd, std::FILE* out) {
  try {
    return cmd.name == "landscape" ? landscape(cmd, out) : interpolate(cmd, out);
  } catch (const ProbeCancelled&) {
    std::fprintf(stderr, "\nmetaadamw: %s cancelled; nothing stored\n", cmd.name.c_str());
    return kExitError;
  }
}

}  // namespace maw::cli
