// The process group of a data-parallel run (api/dist.h): c10d's TCPStore rendezvous and
// ProcessGroupGloo, created once per process at the first run's start, and what the trainer
// asks of it — its shard of each global batch, the gradients summed over the ranks in
// flattened buckets, a few numbers reduced together.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "api/run_config.h"

namespace maw::train {

class World {
 public:
  // The process's world when it has two or more ranks, else nullptr. The first call
  // rendezvous (ConfigError: a busy port, a world-size mismatch, a backend this LibTorch
  // lacks; DataError: no rendezvous within dist_timeout_s).
  static World* get(const RunConfig& c);
  virtual ~World() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank r's rows of a global batch of n: [r·n/W, (r+1)·n/W); `share` = its rows / n.
  torch::Tensor shard(const torch::Tensor& indices, double* share) const;
  // Every parameter's gradient replaced by Σ_r share_r·g_r (the global batch's mean
  // gradient): flattened buckets of at most `bucket_bytes`, their all-reduces started
  // together and waited for. Returns the milliseconds spent.
  virtual double reduce_gradients(const std::vector<torch::Tensor>& params, double share,
                                  int64_t bucket_bytes = 4 << 20) = 0;
  // Before a training step's backward: from the second step of a model on, its buckets'
  // all-reduces start during backward as their gradients arrive (autograd hooks on
  // `params`), and reduce_gradients then waits for them — returning only the time not
  // hidden behind backward. A step whose gradients differ from the plan (a parameter
  // without one) falls back to all-reduces after backward — on every rank alike, since
  // every rank runs the same model and code path (the gradients' layout must be the same
  // on all ranks, as it must for the all-reduce after backward).
  virtual void arm(const std::vector<torch::Tensor>& /*params*/, double /*share*/) {}
  // The end of a model's run: its hooks removed, its parameters no longer held.
  virtual void release() {}
  // At a run's start: every rank must be in the same run (a continued study whose ranks
  // saw different finished runs would pair one model's collectives with another's) and
  // have a part of each batch. Throws ConfigError / std::runtime_error on every rank.
  void join_run(const RunConfig& c);
  // The ranks' checksums of `params` and `factors` (undefined: none) must be equal;
  // std::runtime_error naming the step otherwise (dist_check_every).
  void check_agree(const std::vector<torch::Tensor>& params, const torch::Tensor& factors,
                   int64_t step);
  // Element-wise sums over the ranks (float64), in one all-reduce.
  virtual std::vector<double> sum(const std::vector<double>& values) = 0;
  // Element-wise minimum and maximum over the ranks.
  virtual std::vector<double> min(const std::vector<double>& values) = 0;
  virtual std::vector<double> max(const std::vector<double>& values) = 0;
  // `t` replaced by its sum over the ranks (any device; float or double).
  virtual void sum_in_place(torch::Tensor& t) = 0;
  // Every tensor replaced by Σ_r weight_r·t_r (one all-reduce of them flattened, in float64).
  void sum_weighted(const std::vector<torch::Tensor>& tensors, double weight);
  // Rank 0's values of `tensors` on every rank, as DDP broadcasts its buffers (BatchNorm's
  // running statistics) from rank 0: sum_weighted with weights 1, 0, 0, …
  void broadcast_from_rank0(std::vector<torch::Tensor>& tensors);
  // Σ_r x_r as an autograd operation (SyncBatchNorm's statistics): its backward sums the
  // ranks' gradients each weighted by their share of the batch and divides by this rank's
  // share, so that share-weighted gradient averaging (reduce_gradients) yields the global
  // batch's gradient exactly.
  torch::Tensor sum_differentiable(const torch::Tensor& x, double share);
  // Σ_r share_r·x_r for a list (one all-reduce, flattened), by the same rule: its backward
  // hands every rank Σ_k share_k·(upstream)_k — what the meta-update's g′ needs.
  std::vector<torch::Tensor> sum_differentiable(const std::vector<torch::Tensor>& xs, double share);
};

}  // namespace maw::train
