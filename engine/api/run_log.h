// The HDF5 run log (docs/LOG_FORMAT.md): a RunObserver that writes every record of a run
// to one file from its own thread. Torch-free and HDF5-free header.
#pragma once

#include <memory>
#include <string>

#include "api/observer.h"
#include "api/run_config.h"

namespace maw {

// Creates (truncates) `path` now, so that an unwritable path fails before training; throws
// DataError naming the path. Records are queued (bounded: a full queue makes the engine
// wait, and the file counts the waits as "backpressure" events) and written on the
// writer's thread; the file is flushed at least once a second and closed in on_finish.
std::unique_ptr<RunObserver> make_run_log_writer(const std::string& path, const RunConfig& config);

}  // namespace maw
