// A probe's result added to a finished run log (api/run_log.h): the table's folder replaced
// whole, in a file no writer holds (the writer's lock is taken for the time of the change).
#include <H5Cpp.h>

#include <cmath>
#include <functional>
#include <mutex>

#include "api/errors.h"
#include "api/log_schema.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "log/h5_tables.h"
#include "log/hdf5_lock.h"
#include "log/log_file_lock.h"

namespace maw {
namespace {

template <class R>
void replace_table(const std::string& path, const logschema::Table<R>& t,
                   const logschema::Dims& dims, const R& record,
                   const std::function<void(H5::Group&)>& attributes) {
  const std::string what = std::string("the ") + t.folder + " to run log '" + path + "'";
  {
    RunLogReader check(path);  // DataError: missing, foreign, damaged, newer
    if (check.status() == "running" && check.writer_alive())
      throw DataError("cannot add " + what + ": its run is still being written");
  }
  runlog::LogFileLock lock(path, /*overwrite=*/true);  // no writer starts meanwhile
  std::lock_guard<std::mutex> hdf5(runlog::hdf5_mutex());
  try {
    H5::Exception::dontPrint();
    H5::FileAccPropList fapl;
    fapl.setLibverBounds(H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    H5::H5File file(path, H5F_ACC_RDWR, H5::FileCreatPropList::DEFAULT, fapl);
    if (file.nameExists(t.folder)) file.unlink(t.folder);
    runlog::Tables tables;
    tables.create(file, t, dims);
    tables.write(t, record);
    H5::Group root = file.openGroup("/");
    if (attributes) attributes(root);
    tables.clear();
    file.flush(H5F_SCOPE_GLOBAL);
  } catch (const H5::Exception& e) {
    throw DataError("cannot add " + what + ": " + e.getDetailMsg() +
                    " (is it open elsewhere, or read-only?)");
  }
}

}  // namespace

void store_landscape(const std::string& path, const LandscapeRecord& record) {
  const auto n =
      static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(record.loss.size()))));
  if (n * n != static_cast<int64_t>(record.loss.size()) || n == 0)
    throw DataError("a landscape of " + std::to_string(record.loss.size()) +
                    " values is not a square grid");
  logschema::Dims dims;
  dims.cells = n * n;
  replace_table(path, logschema::landscape(), dims, record, [n](H5::Group& root) {
    runlog::set_attr(root, "landscape_grid", n, H5::PredType::NATIVE_INT64);
  });
}

void store_interpolation(const std::string& path, const InterpolationRecord& record) {
  if (record.alpha.size() != record.loss.size() || record.alpha.empty())
    throw DataError("an interpolation needs one loss per point");
  logschema::Dims dims;
  dims.points = static_cast<int64_t>(record.alpha.size());
  replace_table(path, logschema::interpolation(), dims, record, {});
}

}  // namespace maw
