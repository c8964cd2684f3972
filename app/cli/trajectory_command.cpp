// `metaadamw trajectory LOG… [--json]` (issue step 14, item 2): the joint PCA of runs' full
// snapshots (trajectory_full_every) — every optimizer of a comparison in one basis — with
// each run's 2-D path and the components' explained variance.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/errors.h"
#include "api/run_log_reader.h"
#include "cli/log_commands.h"
#include "services/pca.h"
#include "services/summary_json.h"

namespace maw::cli {

namespace {
struct Path {
  std::string file, optimizer, seed;
  std::vector<double> steps;
  size_t first_row = 0;  // in the stacked rows
};
}  // namespace

void trajectory_pca(const std::vector<std::string>& logs, bool json, std::FILE* out) {
  std::vector<Path> paths;
  std::vector<std::vector<float>> rows;
  std::string checksum, coordinates;
  for (const auto& file : logs) {
    RunLogReader r(file);  // DataError: unreadable, foreign, newer
    if (!r.has("trajectory_full/delta") || r.rows("trajectory_full/delta") == 0)
      throw DataError("'" + file +
                      "' holds no full-parameter snapshots: run it with --set "
                      "trajectory_full_every=N (run-log schema 4 or newer)");
    const std::string m = r.attribute("trajectory_full_coordinates");
    const std::string sum = r.attribute("trajectory_checksum");
    if (paths.empty()) {
      checksum = sum;
      coordinates = m;
    } else if (sum != checksum || m != coordinates) {
      throw DataError("'" + file + "' starts from another initialization than '" +
                      paths.front().file +
                      "' (another seed, task or model): a joint PCA needs runs of one seed and "
                      "model, e.g. the optimizers of one comparison");
    }
    Path p{file, r.attribute("optimizer"), r.attribute("seed"), r.read("trajectory_full/step"),
           rows.size()};
    const auto delta = r.read("trajectory_full/delta");
    const size_t n = p.steps.size(), width = n ? delta.size() / n : 0;
    for (size_t i = 0; i < n; ++i)
      rows.emplace_back(delta.begin() + static_cast<std::ptrdiff_t>(i * width),
                        delta.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
    paths.push_back(std::move(p));
  }
  if (rows.size() < 2) throw DataError("a PCA needs at least two snapshots; the logs hold one");
  const auto pca = stats::principal_components(rows, 2);
  const size_t k = pca.variance.size();
  if (json) {
    nlohmann::ordered_json j;
    j["schema"] = "metaadamw-trajectory";
    j["coordinates"] = std::stoll(coordinates);
    j["explained_variance"] = pca.variance;
    for (const auto& p : paths) {
      nlohmann::ordered_json run;
      run["file"] = p.file;
      run["optimizer"] = p.optimizer;
      run["seed"] = p.seed;
      run["steps"] = p.steps;
      for (size_t c = 0; c < k; ++c) {
        std::vector<double> v;
        for (size_t i = 0; i < p.steps.size(); ++i) v.push_back(pca.scores[p.first_row + i][c]);
        run["pc" + std::to_string(c + 1)] = v;
      }
      j["runs"].push_back(run);
    }
    std::fprintf(out, "%s\n", json_text(j).c_str());
    return;
  }
  std::fprintf(out, "joint PCA of %zu snapshots (%s sampled coordinates) of %zu runs:", rows.size(),
               coordinates.c_str(), paths.size());
  for (size_t c = 0; c < k; ++c) std::fprintf(out, " PC%zu %.1f%%", c + 1, 100.0 * pca.variance[c]);
  std::fprintf(out, " of the variance\n");
  for (const auto& p : paths) {
    std::fprintf(out, "\n%s (%s, seed %s)\n%10s %14s %14s\n", p.file.c_str(), p.optimizer.c_str(),
                 p.seed.c_str(), "step", "PC1", "PC2");
    for (size_t i = 0; i < p.steps.size(); ++i)
      std::fprintf(out, "%10.0f %14.6g %14.6g\n", p.steps[i], pca.scores[p.first_row + i][0],
                   k > 1 ? pca.scores[p.first_row + i][1] : 0.0);
  }
}

}  // namespace maw::cli
