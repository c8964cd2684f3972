// The offline datasets (TASKS.md): where each comes from, where it lives, whether it is
// here. Torch-free: the CLI's `data list` / `data fetch` and the studio's dataset status
// use it; tasks use it to find files and to name the fetch command when they are missing.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace maw {

struct DatasetInfo {
  std::string name;  // fashion-mnist, sotu, bible, sentiment, seattle-weather
  std::string task;  // image, lm, translation, sentiment, forecasting
  std::string description;
  std::string registry;               // apt | npm
  std::vector<std::string> packages;  // apt packages, or one npm package@version
  std::string license;
  std::string path;                // where the files are (or will be, once fetched)
  std::vector<std::string> files;  // required files, relative to path
  bool present = false;            // every required file exists
  uint64_t size_bytes = 0;         // of the required files present
};

// --data-dir (when given) > $METAADAMW_DATA > ~/.local/share/metaadamw/data.
std::string resolve_data_dir(const std::string& flag = "");

std::vector<DatasetInfo> list_datasets(const std::string& data_dir);
// Throws ConfigError for an unknown name (listing the known ones).
DatasetInfo find_dataset(const std::string& name, const std::string& data_dir);
// The command a user runs to get it, for error messages.
std::string fetch_command(const std::string& name);
// Throws DataError (naming the fetch command) when the dataset is not present.
DatasetInfo require_dataset(const std::string& name, const std::string& data_dir);

// apt datasets: `apt-get install` (needs root); npm datasets: `npm pack` into a temporary
// folder, then unpacked into data_dir/<name>. Progress and commands go to `log`. Throws
// DataError with the reason when a step fails.
void fetch_dataset(const std::string& name, const std::string& data_dir, std::ostream& log);

}  // namespace maw
