// Debian's HDF5 is built without thread safety: every HDF5 call in the process, writer
// thread or reader (CLI, studio), holds this one lock.
#pragma once

#include <mutex>

namespace maw::runlog {

std::mutex& hdf5_mutex();

}  // namespace maw::runlog
