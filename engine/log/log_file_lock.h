// The writer's claim on a run-log path, taken before HDF5 creates the file: an open file
// description of the path holding an OFD write lock (fcntl F_OFD_SETLK) for as long as
// the run writes. A second writer — another process, or another run in this one — is
// refused with the pid that holds the lock; an existing log is kept unless the caller
// says to replace it. OFD locks are independent of the flock() HDF5 takes itself, so
// readers (inspect, the studio, h5py with SWMR) are not affected. Released by the kernel
// when the holder exits, however it exits.
#pragma once

#include <string>

namespace maw::runlog {

class LogFileLock {
 public:
  // Throws ConfigError when `path` cannot hold a log (no such folder, a directory, a
  // device) or is an existing non-empty file and !overwrite; DataError when another
  // writer holds it ("in use by pid N").
  LogFileLock(const std::string& path, bool overwrite);
  ~LogFileLock();
  LogFileLock(const LogFileLock&) = delete;
  LogFileLock& operator=(const LogFileLock&) = delete;

 private:
  int fd_ = -1;
};

// The pid of the process holding an OFD write lock on the file (device, inode), found
// through /proc/PID/fdinfo; -1 when it cannot be seen (another user's process).
long ofd_lock_holder(unsigned long long dev, unsigned long long ino, int skip_fd);

}  // namespace maw::runlog
