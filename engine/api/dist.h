// Data-parallel training over PyTorch's own distributed engine (c10d; issue step 15): the
// world a process belongs to, from the environment that torchrun, Slurm wrappers and
// mpirun set, and the local launcher of `--nproc N`. Torch-free: the CLI and the studio
// call it; the process group itself lives in train/dist.h.
#pragma once

#include <string>
#include <vector>

namespace maw {

struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;  // the rendezvous (rank 0's TCPStore)
  int master_port = 0;
  bool active() const { return world_size > 1; }
};

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torchrun's names), else Open MPI's
// OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK or Slurm's SLURM_PROCID / SLURM_NTASKS /
// SLURM_LOCALID for the rank and size (MASTER_ADDR and MASTER_PORT still needed). A world
// of one when none is set. ConfigError for values that do not fit: a rank outside the
// world, a world of two or more without MASTER_ADDR or MASTER_PORT, a port outside 1–65535.
DistEnv dist_env_from_environment();

// Whether this build's LibTorch has c10d with Gloo (Debian's 1.13 does, with libgloo-dev).
bool distributed_available();

// Sets the world of this process (before the first run); every run after it trains
// data-parallel in it: the process group is created at the first run's start (its
// dist_backend and dist_timeout_s) and kept for the process's life.
void set_dist_env(const DistEnv& env);
const DistEnv& dist_env();

// `--nproc N`: runs `argv` (this program and its arguments, without --nproc) as N local
// worker processes with the environment above (rendezvous on 127.0.0.1 at a free port),
// rank 0's standard output passed through, the others' discarded. Returns when all have
// ended: 0 when every worker exited 0; else the first failing worker's exit code (1 for a
// worker killed by a signal); the others get SIGTERM at once and SIGKILL after 75 s.
// `say`: one line about a failing worker ("rank 1 was killed by signal 9").
int launch_local(int nproc, const std::vector<std::string>& argv,
                 void (*say)(const std::string& line));

}  // namespace maw
