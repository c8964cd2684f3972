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

// Room a run log keeps free on its file system: below it the writer stops taking records
// (the run goes on) and closes the file cleanly — a write that meets a full disk leaves
// HDF5 1.10 unable to close the file (it crashes in H5Fclose); the dirty chunk cache
// (≤ 1 MiB per series) is flushed out of this margin. 64 MiB, or
// METAADAMW_LOG_MIN_FREE_MB (the tests make the disk look full).
double min_free_bytes();
// Free bytes on the file system that holds `path` (infinity when it cannot be told).
double free_bytes(const std::string& path);

// The pid of the process holding an OFD write lock on the file (device, inode), found
// through /proc/PID/fdinfo; -1 when it cannot be seen (another user's process).
long ofd_lock_holder(unsigned long long dev, unsigned long long ino, int skip_fd);

}  // namespace maw::runlog
