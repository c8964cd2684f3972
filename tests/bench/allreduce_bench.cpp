// The gradient all-reduce of data-parallel training (train/dist.h) on this machine's
// loopback: N local ranks (--nproc, default 2) each all-reduce a "model" of P float32
// gradients in the trainer's buckets, for P from 1 M to 16 M; prints, per size, the
// median time and the bandwidths of BENCHMARKS.md's data-parallel section (algorithm:
// bytes / time; bus: 2(N − 1)/N × bytes / time, what a ring moves per link).
//   build/tests/bench/metaadamw_allreduce_bench [--nproc N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/dist.h"
#include "api/run_config.h"
#include "train/dist.h"

int main(int argc, char** argv) {
  int nproc = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--nproc") nproc = std::atoi(argv[i + 1]);
  const maw::DistEnv env = maw::dist_env_from_environment();
  if (!env.active())
    return maw::launch_local(nproc, {argv[0]}, [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    });
  maw::set_dist_env(env);
  at::set_num_threads(1);
  maw::RunConfig c;
  auto* world = maw::train::World::get(c);
  if (env.rank == 0)
    std::printf("%d ranks on the loopback (Gloo, 4 MiB buckets)\n%12s %10s %12s %12s\n",
                env.world_size, "parameters", "ms", "algo GB/s", "bus GB/s");
  for (int64_t p : {1 << 20, 4 << 20, 16 << 20}) {
    // A model of 8 tensors of P/8 values each, their gradients set.
    std::vector<torch::Tensor> params;
    for (int k = 0; k < 8; ++k) {
      auto t = torch::zeros({p / 8}, torch::requires_grad());
      t.mutable_grad() = torch::ones({p / 8});
      params.push_back(t);
    }
    std::vector<double> ms;
    for (int it = 0; it < 7; ++it) ms.push_back(world->reduce_gradients(params, 0.5));
    std::sort(ms.begin(), ms.end());
    const double t = world->max({ms[ms.size() / 2]})[0];  // the slowest rank's median
    const double bytes = 4.0 * static_cast<double>(p);
    if (env.rank == 0)
      std::printf("%12lld %10.1f %12.2f %12.2f\n", static_cast<long long>(p), t, bytes / (t * 1e6),
                  2.0 * (env.world_size - 1) / env.world_size * bytes / (t * 1e6));
  }
  return 0;
}
