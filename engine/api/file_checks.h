// What is wrong with a path, said before anything opens it: a FIFO would block an open
// forever, a device never ends, a directory reads as an empty file. Header-only and
// dependency-free: the config parser, the session's checks, the run-log reader and
// writer (a torch-free library) all use it.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace maw::files {

// "" when `path` is a readable regular file of at most `max_bytes`; else the reason,
// e.g. "no such file", "is a directory", "is a FIFO (named pipe)".
inline std::string input_problem(const std::string& path, uint64_t max_bytes = UINT64_MAX) {
  if (path.empty()) return "an empty file name";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT ? "no such file" : std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (S_ISFIFO(st.st_mode)) return "is a FIFO (named pipe), not a regular file";
  if (!S_ISREG(st.st_mode)) return "is not a regular file (a device or socket)";
  if (::access(path.c_str(), R_OK) != 0) return std::string("cannot read: ") + std::strerror(errno);
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return "larger than " + std::to_string(max_bytes >> 20) + " MiB";
  return "";
}

// "" when a file can be created (or replaced) at `path`: its folder exists and is
// writable, and the path is not a directory, FIFO or device.
inline std::string output_problem(const std::string& path) {
  if (path.empty()) return "an empty file name";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return "is a directory";
    if (!S_ISREG(st.st_mode)) return "is not a regular file (a FIFO, device or socket)";
    if (::access(path.c_str(), W_OK) != 0)
      return std::string("cannot write: ") + std::strerror(errno);
    return "";
  }
  if (errno == ENAMETOOLONG) return "the name is too long";
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0)
    return "its folder '" + dir + "' " +
           (errno == ENOENT ? "does not exist" : std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return "'" + dir + "' is not a folder";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return "cannot write in '" + dir + "': " + std::strerror(errno);
  return "";
}

}  // namespace maw::files
