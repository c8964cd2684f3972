// The HDF5 run log (docs/LOG_FORMAT.md): a RunObserver that writes every record of a run
// to one file from its own thread. Torch-free and HDF5-free header.
#pragma once

#include <memory>
#include <string>

#include "api/observer.h"
#include "api/run_config.h"

namespace maw {

// Creates `path` now, so that an unusable path fails before training. The path is locked
// for this writer until it closes: a second writer (another process, or another run in
// this one) is refused with DataError "in use by pid N". An existing non-empty file is
// replaced only when `overwrite`; otherwise ConfigError, as for a path that cannot hold a
// file (no such folder, a directory, a device). Records are queued (bounded: a full queue
// makes the engine wait, and the file counts the waits as "backpressure" events) and
// written on the writer's thread; the file is flushed at least once a second and closed in
// on_finish (status from the summary) or on_error (status "error" and the message).
std::unique_ptr<RunObserver> make_run_log_writer(const std::string& path, const RunConfig& config,
                                                 bool overwrite = false);

}  // namespace maw

namespace maw {

// A probe's result added to a finished log (api/probe.h), replacing the one there: the
// landscape (the landscape_grid attribute follows its grid) or an interpolation. DataError
// when the file is not a run log, is still being written, or cannot be written.
void store_landscape(const std::string& path, const LandscapeRecord& record);
void store_interpolation(const std::string& path, const InterpolationRecord& record);

}  // namespace maw
