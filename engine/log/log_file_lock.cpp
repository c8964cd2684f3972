#include "log/log_file_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

#include "api/errors.h"
#include "api/file_checks.h"

namespace maw::runlog {
namespace {

bool is_number(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

// Whether /proc/PID/fdinfo/FD lists an OFD write lock.
bool holds_ofd_write_lock(const std::string& fdinfo) {
  std::ifstream in(fdinfo);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("lock:", 0) == 0 && line.find("OFDLCK") != std::string::npos &&
        line.find("WRITE") != std::string::npos)
      return true;
  return false;
}

}  // namespace

double min_free_bytes() {
  const char* v = std::getenv("METAADAMW_LOG_MIN_FREE_MB");
  const double mb = v && *v ? std::strtod(v, nullptr) : 64.0;
  return mb * (1 << 20);
}

// Free bytes on the file system that holds `path` (infinity when it cannot be told).
double free_bytes(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
}

long ofd_lock_holder(unsigned long long dev, unsigned long long ino, int skip_fd) {
  DIR* proc = ::opendir("/proc");
  if (!proc) return -1;
  const long self = static_cast<long>(::getpid());
  long found = -1;
  while (found < 0) {
    const dirent* p = ::readdir(proc);
    if (!p) break;
    if (!is_number(p->d_name)) continue;
    const std::string base = std::string("/proc/") + p->d_name;
    DIR* fds = ::opendir((base + "/fd").c_str());
    if (!fds) continue;  // gone, or another user's
    while (const dirent* f = ::readdir(fds)) {
      if (!is_number(f->d_name)) continue;
      const long pid = std::strtol(p->d_name, nullptr, 10);
      if (pid == self && std::atoi(f->d_name) == skip_fd) continue;
      struct stat st;
      if (::stat((base + "/fd/" + f->d_name).c_str(), &st) != 0) continue;
      if (st.st_dev != dev || st.st_ino != ino) continue;
      if (holds_ofd_write_lock(base + "/fdinfo/" + f->d_name)) {
        found = pid;
        break;
      }
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return found;
}

LogFileLock::LogFileLock(const std::string& path, bool overwrite) {
  const std::string problem = files::output_problem(path);
  if (!problem.empty()) throw ConfigError("cannot create run log '" + path + "': " + problem);
  // No O_TRUNC: nothing of an existing file changes before the lock is ours.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw ConfigError("cannot create run log '" + path + "': " + std::strerror(errno));
  struct flock lk;
  std::memset(&lk, 0, sizeof lk);
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file
  struct stat st;
  ::fstat(fd_, &st);
  if (::fcntl(fd_, F_OFD_SETLK, &lk) != 0) {
    const int err = errno;
    const long holder =
        (err == EAGAIN || err == EACCES) ? ofd_lock_holder(st.st_dev, st.st_ino, fd_) : -1;
    ::close(fd_);
    fd_ = -1;
    if (err != EAGAIN && err != EACCES)
      throw DataError("cannot lock run log '" + path + "': " + std::strerror(err));
    throw DataError("run log '" + path + "' is in use by " +
                    (holder > 0 ? "pid " + std::to_string(holder) : "another process") +
                    " (another run is writing it); choose another log path");
  }
  ::fstat(fd_, &st);  // the size now that no other writer can change it
  if (st.st_size > 0 && !overwrite) {
    ::close(fd_);
    fd_ = -1;
    throw ConfigError("run log '" + path + "' already exists (" + std::to_string(st.st_size) +
                      " bytes): pass --overwrite to replace it, or choose another path");
  }
}

LogFileLock::~LogFileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace maw::runlog
