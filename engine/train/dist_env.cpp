// The world from the environment, and the local launcher of --nproc (api/dist.h). Torch-free.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "api/dist.h"
#include "api/errors.h"

extern char** environ;

namespace maw {
namespace {

DistEnv& the_env() {
  static DistEnv env;
  return env;
}

// The first of `names` that is set, as an integer; `fallback` when none is.
int int_env(const std::vector<const char*>& names, int fallback, std::string* which = nullptr) {
  for (const char* n : names)
    if (const char* v = std::getenv(n); v && *v) {
      char* end = nullptr;
      errno = 0;
      const long x = std::strtol(v, &end, 10);
      if (*end || errno || x < 0 || x > 1 << 30)
        throw ConfigError(std::string(n) + "='" + v + "' is not a whole number >= 0");
      if (which) *which = n;
      return static_cast<int>(x);
    }
  return fallback;
}

// A port no one listens on now (the kernel's choice on the loopback).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<pid_t>* g_children = nullptr;
extern "C" void forward_signal(int sig) {
  if (g_children)
    for (pid_t p : *g_children)
      if (p > 0) ::kill(p, sig);
}

}  // namespace

DistEnv dist_env_from_environment() {
  DistEnv e;
  std::string rank_name = "RANK", size_name = "WORLD_SIZE";
  e.world_size =
      int_env({"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS", "PMI_SIZE"}, 1, &size_name);
  e.rank = int_env({"RANK", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID", "PMI_RANK"}, 0, &rank_name);
  e.local_rank = int_env({"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}, 0);
  if (e.world_size < 1) throw ConfigError(size_name + " must be at least 1");
  if (e.rank >= e.world_size)
    throw ConfigError(rank_name + "=" + std::to_string(e.rank) + " is outside the world of " +
                      size_name + "=" + std::to_string(e.world_size) + " (ranks 0 to " +
                      std::to_string(e.world_size - 1) + ")");
  if (!e.active()) return e;
  const char* addr = std::getenv("MASTER_ADDR");
  if (!addr || !*addr)
    throw ConfigError("a world of " + std::to_string(e.world_size) +
                      " processes needs MASTER_ADDR (rank 0's host) and MASTER_PORT in the "
                      "environment, as torchrun sets them");
  e.master_addr = addr;
  e.master_port = int_env({"MASTER_PORT"}, 0);
  if (e.master_port < 1 || e.master_port > 65535)
    throw ConfigError("MASTER_PORT must be a port from 1 to 65535 (set it beside MASTER_ADDR)");
  return e;
}

void set_dist_env(const DistEnv& env) {
  the_env() = env;
}
const DistEnv& dist_env() {
  return the_env();
}

int launch_local(int nproc, const std::vector<std::string>& argv,
                 void (*say)(const std::string& line)) {
  if (nproc < 1) throw ConfigError("--nproc must be at least 1");
  const int port = free_port();
  std::vector<pid_t> children(static_cast<size_t>(nproc), -1);
  std::vector<std::string> extra = {"WORLD_SIZE=" + std::to_string(nproc),
                                    "LOCAL_WORLD_SIZE=" + std::to_string(nproc),
                                    "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      const std::string key = kv.substr(0, kv.find('='));
      if (key == "RANK" || key == "LOCAL_RANK" || key == "WORLD_SIZE" || key == "MASTER_ADDR" ||
          key == "MASTER_PORT" || key == "LOCAL_WORLD_SIZE")
        continue;
      env.push_back(kv);
    }
    for (const auto& kv : extra) env.push_back(kv);
    env.push_back("RANK=" + std::to_string(r));
    env.push_back("LOCAL_RANK=" + std::to_string(r));
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& kv : env) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      if (r != 0) {  // only rank 0 speaks on standard output (a JSON summary, tables)
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDOUT_FILENO);
      }
      ::execve("/proc/self/exe", args.data(), envp.data());
      ::execvpe(args[0], args.data(), envp.data());
      std::_Exit(127);
    }
    children[static_cast<size_t>(r)] = pid;
  }
  // Ctrl-C and SIGTERM go to every worker (they stop together, at one step).
  g_children = &children;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  int code = 0, alive = nproc;
  bool failed = false;
  int grace_ms = 0;  // after a failure: the others' time to end on their own, then SIGKILL
  while (alive > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, failed ? WNOHANG : 0);
    if (pid == 0) {  // failed, the others still running
      ::usleep(100 * 1000);
      if ((grace_ms += 100) == 75000)
        for (pid_t p : children)
          if (p > 0) ::kill(p, SIGKILL);
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int rank = -1;
    for (int r = 0; r < nproc; ++r)
      if (children[static_cast<size_t>(r)] == pid) rank = r;
    if (rank < 0) continue;
    children[static_cast<size_t>(rank)] = -1;
    --alive;
    int c = 0;
    if (WIFEXITED(status)) {
      c = WEXITSTATUS(status);
      if (c != 0 && !failed && say)
        say("rank " + std::to_string(rank) + " exited with code " + std::to_string(c));
    } else if (WIFSIGNALED(status)) {
      c = 1;
      if (!failed && say)
        say("rank " + std::to_string(rank) + " was killed by signal " +
            std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")");
    }
    if (c != 0 && !failed) {
      failed = true;
      code = c;
      // The others fail at their next collective (the dead rank's connections close) or
      // stop on SIGTERM; whoever is left after 75 s (past dist_timeout_s's default 60 s, in
      // which a rank still in the rendezvous gives up) is killed.
      for (pid_t p : children)
        if (p > 0) {
          ::kill(p, SIGTERM);
          ::kill(p, SIGCONT);  // a stopped (hung) worker too
        }
    }
  }
  g_children = nullptr;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return code;
}

}  // namespace maw
