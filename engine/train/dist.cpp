#include "train/dist.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/dist.h"
#include "api/errors.h"

#if defined(USE_C10D_GLOO) && __has_include(<gloo/config.h>)
#define MAW_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#else
#define MAW_HAVE_GLOO 0
#endif

namespace maw {

bool distributed_available() {
  return MAW_HAVE_GLOO != 0;
}

}  // namespace maw

namespace maw::train {

torch::Tensor World::shard(const torch::Tensor& indices, double* share) const {
  const int64_t n = indices.size(0), w = size(), r = rank();
  const int64_t lo = r * n / w, hi = (r + 1) * n / w;
  if (share) *share = n > 0 ? static_cast<double>(hi - lo) / static_cast<double>(n) : 0.0;
  return indices.slice(0, lo, hi);
}

namespace {

struct SumOverRanks : torch::autograd::Function<SumOverRanks> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               int64_t world, double share) {
    ctx->saved_data["world"] = world;
    ctx->saved_data["share"] = share;
    auto y = x.detach().clone();
    reinterpret_cast<World*>(world)->sum_in_place(y);
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    // (Σ_k share_k·g_k)/share_r, itself this operation: a backward taken with create_graph
    // (the meta-update's g′ through SyncBatchNorm) stays differentiable, by the same rule.
    auto* w = reinterpret_cast<World*>(ctx->saved_data["world"].toInt());
    const double share = ctx->saved_data["share"].toDouble();
    return {w->sum_differentiable(grads[0] * share, share) / share, torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

void World::sum_weighted(const std::vector<torch::Tensor>& tensors, double weight) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const auto& t : tensors)
    if (t.numel() > 0) flat.push_back(t.reshape({-1}).to(torch::kCPU, torch::kDouble));
  if (flat.empty()) return;
  auto all = torch::cat(flat);
  if (weight == 0.0)
    all.zero_();  // not 0·x: a rank's non-finite values must not reach the others
  else if (weight != 1.0)
    all.mul_(weight);
  sum_in_place(all);
  int64_t at = 0;
  for (const auto& t : tensors) {
    if (t.numel() == 0) continue;
    auto out = t;  // shares t's storage
    out.copy_(all.slice(0, at, at + t.numel()).view(t.sizes()));
    at += t.numel();
  }
}

void World::join_run(const RunConfig& c) {
  if (c.batch_size > 0 && c.batch_size < size())
    throw ConfigError("batch_size " + std::to_string(c.batch_size) + " is smaller than the " +
                      std::to_string(size()) + " ranks: every rank needs a part of each batch");
  const std::string what = c.task + "|" + c.optimizer + "|" + std::to_string(c.seed) + "|" +
                           c.get("lr") + "|" + c.get("weight_decay") + "|" +
                           c.get("meta_update_freq") + "|" + c.get("meta_lr") + "|" +
                           std::to_string(c.steps) + "|" + std::to_string(c.epochs);
  const double id = static_cast<double>(std::hash<std::string>{}(what) & ((1ull << 52) - 1));
  if (min({id})[0] != max({id})[0])
    throw std::runtime_error("rank " + std::to_string(rank()) +
                             ": the ranks are not in the same run (" + c.optimizer + " seed " +
                             std::to_string(c.seed) +
                             " here): a continued study whose ranks see different finished "
                             "runs — give every rank the same study folder");
}

void World::check_agree(const std::vector<torch::Tensor>& params, const torch::Tensor& factors,
                        int64_t step) {
  torch::NoGradGuard no_grad;
  auto sum_of = [](const torch::Tensor& t) { return t.to(torch::kDouble).sum(); };
  std::vector<torch::Tensor> parts;  // summed on the device, one host read
  for (const auto& p : params) parts.push_back(sum_of(p));
  const double p = parts.empty() ? 0.0 : torch::stack(parts).sum().item<double>();
  const double f = factors.defined() ? sum_of(factors).item<double>() : 0.0;
  const auto lo = min({p, f}), hi = max({p, f});
  const char* what[] = {"parameters", "factors"};
  for (size_t i = 0; i < 2; ++i)
    if (lo[i] != hi[i])
      throw std::runtime_error("the ranks' " + std::string(what[i]) + " differ at step " +
                               std::to_string(step) + " (checksums " + std::to_string(lo[i]) +
                               " to " + std::to_string(hi[i]) +
                               "): data-parallel training lost its lockstep");
}

void World::broadcast_from_rank0(std::vector<torch::Tensor>& tensors) {
  sum_weighted(tensors, rank() == 0 ? 1.0 : 0.0);
}

torch::Tensor World::sum_differentiable(const torch::Tensor& x, double share) {
  return SumOverRanks::apply(x, reinterpret_cast<int64_t>(this), share);
}

std::vector<torch::Tensor> World::sum_differentiable(const std::vector<torch::Tensor>& xs,
                                                     double share) {
  if (xs.empty()) return {};
  std::vector<torch::Tensor> flat;
  for (const auto& x : xs) flat.push_back(x.reshape({-1}));
  const auto sum = sum_differentiable(torch::cat(flat) * share, share);
  std::vector<torch::Tensor> out;
  int64_t at = 0;
  for (const auto& x : xs) {
    out.push_back(sum.slice(0, at, at + x.numel()).view(x.sizes()));
    at += x.numel();
  }
  return out;
}

#if MAW_HAVE_GLOO
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

// LibTorch 2.4 and later default TCPStore to its libuv server, and Debian's LibTorch 2.6 is
// built without libuv ("use_libuv was requested but PyTorch was build without libuv
// support"): the classic server is in every version, so we ask for it where the option
// exists (1.13 has no such option).
template <typename Options>
auto classic_store_server(Options& o, int) -> decltype(o.useLibUV = false, void()) {
  o.useLibUV = false;
}
template <typename Options>
void classic_store_server(Options&, long) {}

class GlooWorld : public World {
 public:
  GlooWorld(const DistEnv& env, const RunConfig& c) : rank_(env.rank), size_(env.world_size) {
    if (c.dist_backend == "nccl")
      throw ConfigError(
          "dist_backend=nccl: not built yet — data-parallel runs use Gloo (on CUDA its buckets "
          "pass through host memory); use dist_backend=gloo or auto");
    const auto timeout = std::chrono::milliseconds(c.dist_timeout_s * 1000);
    const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(env.master_port);
    o.isServer = env.rank == 0;
    o.numWorkers = static_cast<std::size_t>(env.world_size);
    o.waitWorkers = true;
    o.timeout = timeout;
    classic_store_server(o, 0);
    try {
      store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      if (env.rank == 0 && (what.find("ddress already in use") != std::string::npos ||
                            what.find("EADDRINUSE") != std::string::npos))
        throw ConfigError("MASTER_PORT " + std::to_string(env.master_port) + " on " +
                          env.master_addr + " is in use: choose a free port");
      throw DataError("rank " + std::to_string(env.rank) + ": no rendezvous at " + where +
                      " within dist_timeout_s = " + std::to_string(c.dist_timeout_s) + " s (" +
                      first_line(what) + ")");
    }
    // Every rank must agree on the world's size.
    if (env.rank == 0) store_->set("maw/world_size", bytes(std::to_string(env.world_size)));
    const auto said = store_->get("maw/world_size");
    const std::string rank0(said.begin(), said.end());
    if (rank0 != std::to_string(env.world_size))
      throw ConfigError("WORLD_SIZE=" + std::to_string(env.world_size) + " on rank " +
                        std::to_string(env.rank) + ", but rank 0 has WORLD_SIZE=" + rank0);
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (loopback(env.master_addr))
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, env.rank, env.world_size, opts);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  // Overlap (arm, the gradient hooks, reduce_gradients): a hook on every parameter copies
  // its gradient into its bucket's host buffer as backward produces it, and the bucket's
  // all-reduce starts as soon as its last gradient is in — while backward goes on with the
  // layers before. Every rank's backward runs the same graph, so the buckets start in the
  // same order everywhere (Gloo matches collectives by their order).
  void arm(const std::vector<torch::Tensor>& params, double share) override {
    std::lock_guard<std::mutex> lock(hook_mutex_);
    if (!same_tensors(params, hooked_)) {  // a new model (a study's next run): hook it
      for (size_t k = 0; k < hooked_.size(); ++k) hooked_[k].remove_hook(hook_ids_[k]);
      hooked_ = params;
      hook_ids_.clear();
      armed_ = false;  // whatever an earlier, failed backward left
      started_.clear();
      slot_.clear();
      pending_.clear();
      for (size_t k = 0; k < params.size(); ++k)
        hook_ids_.push_back(
            params[k].register_hook([this, k](const torch::Tensor& g) { on_gradient(k, g); }));
      layout_.clear();  // its first step all-reduces after backward, and plans the buckets
      return;
    }
    if (layout_.empty()) return;
    pending_.assign(buckets_.size(), 0);
    for (size_t b = 0; b < buckets_.size(); ++b) pending_[b] = buckets_[b].size();
    started_.assign(buckets_.size(), {});
    share_ = share;
    missed_ = false;
    armed_ = true;
  }

  void release() override {
    std::lock_guard<std::mutex> lock(hook_mutex_);
    for (size_t k = 0; k < hooked_.size(); ++k) hooked_[k].remove_hook(hook_ids_[k]);
    hooked_.clear();
    hook_ids_.clear();
    armed_ = false;
    started_.clear();
  }

  double reduce_gradients(const std::vector<torch::Tensor>& params, double share,
                          int64_t bucket_bytes) override {
    torch::NoGradGuard no_grad;
    const auto t0 = std::chrono::steady_clock::now();
    if (overlapped(params)) return ms_since(t0);
    plan_buckets(params, bucket_bytes);
    // Each bucket's gradients copied into its host buffer (kept across steps: no allocation
    // on the training path), weighted, all-reduced — every bucket's started before any wait.
    std::vector<c10::intrusive_ptr<c10d::Work>> work;
    for (size_t b = 0; b < buckets_.size(); ++b) {
      int64_t at = 0;
      for (size_t k : buckets_[b]) {
        const auto& g = params[k].grad();
        flat_[b].slice(0, at, at + g.numel()).copy_(g.reshape({-1}));
        at += g.numel();
      }
      flat_[b].mul_(share);
      std::vector<torch::Tensor> one = {flat_[b]};
      work.push_back(pg_->allreduce(one));
    }
    for (auto& w : work) wait(w);
    copy_back(params);
    return ms_since(t0);
  }

  void sum_in_place(torch::Tensor& t) override {
    torch::NoGradGuard no_grad;
    auto host = t.device().is_cpu() && t.is_contiguous() ? t : t.contiguous().to(torch::kCPU);
    std::vector<torch::Tensor> one = {host};
    wait(pg_->allreduce(one));
    if (!host.is_same(t)) t.copy_(host);
  }

  void copy_back(const std::vector<torch::Tensor>& params) {
    for (size_t b = 0; b < buckets_.size(); ++b) {
      int64_t at = 0;
      for (size_t k : buckets_[b]) {
        auto g = params[k].grad();
        g.copy_(flat_[b].slice(0, at, at + g.numel()).view(g.sizes()));
        at += g.numel();
      }
    }
  }

  static bool same_tensors(const std::vector<torch::Tensor>& a,
                           const std::vector<torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t k = 0; k < a.size(); ++k)
      if (!a[k].is_same(b[k])) return false;
    return true;
  }

  // A parameter's gradient from backward (before it is accumulated into .grad()).
  void on_gradient(size_t k, const torch::Tensor& g) {
    std::lock_guard<std::mutex> lock(hook_mutex_);
    if (!armed_) return;
    if (k >= slot_.size() || slot_[k].first < 0 || g.numel() != layout_[k] || started_.empty()) {
      missed_ = true;  // not the planned layout: reduce_gradients does it after backward
      return;
    }
    const auto [b, at] = slot_[k];
    const auto bucket = static_cast<size_t>(b);
    flat_[bucket].slice(0, at, at + g.numel()).copy_(g.reshape({-1}));
    if (--pending_[bucket] == 0) {
      flat_[bucket].mul_(share_);
      std::vector<torch::Tensor> one = {flat_[bucket]};
      started_[bucket] = pg_->allreduce(one);
    }
  }

  // After an armed backward: true when every bucket was started by the hooks and the
  // gradients are the planned layout — then waited for and copied into .grad(). Else every
  // started bucket is still waited for (the other ranks started the same ones) and the
  // caller all-reduces after backward.
  bool overlapped(const std::vector<torch::Tensor>& params) {
    bool complete = false;
    {
      std::lock_guard<std::mutex> lock(hook_mutex_);
      if (!armed_) return false;
      armed_ = false;
      waiting_.swap(started_);  // both keep their capacity: no allocation per step
      complete = !missed_ && same_tensors(params, hooked_) && same_layout(params);
      for (const auto& w : waiting_) complete = complete && w;
    }
    for (auto& w : waiting_)
      if (w) wait(w);
    for (auto& w : waiting_) w.reset();
    if (complete) copy_back(params);
    return complete;
  }

  // Whether the gradients' sizes (-1: none) are those the buckets were planned for.
  bool same_layout(const std::vector<torch::Tensor>& params) const {
    if (params.size() != layout_.size()) return false;
    for (size_t k = 0; k < params.size(); ++k)
      if ((params[k].grad().defined() ? params[k].grad().numel() : -1) != layout_[k]) return false;
    return true;
  }

  // Buckets of consecutive gradients (model order) of at most `bucket_bytes`, and a host
  // buffer for each: made again only when the gradients' layout changes.
  void plan_buckets(const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
    if (same_layout(params) && bucket_bytes == bucket_bytes_) return;
    layout_.clear();
    for (const auto& p : params) layout_.push_back(p.grad().defined() ? p.grad().numel() : -1);
    bucket_bytes_ = bucket_bytes;
    buckets_.clear();
    flat_.clear();
    std::vector<int64_t> sizes;
    int64_t bytes_in = 0;
    for (size_t k = 0; k < params.size(); ++k) {
      const auto& g = params[k].grad();
      if (!g.defined()) continue;
      const int64_t b = g.numel() * static_cast<int64_t>(g.element_size());
      if (buckets_.empty() || bytes_in + b > bucket_bytes) {
        buckets_.emplace_back();
        sizes.push_back(0);
        bytes_in = 0;
      }
      buckets_.back().push_back(k);
      sizes.back() += g.numel();
      bytes_in += b;
    }
    for (size_t b = 0; b < buckets_.size(); ++b)
      flat_.push_back(torch::empty(
          {sizes[b]}, params[buckets_[b].front()].grad().options().device(torch::kCPU)));
    slot_.assign(params.size(), {-1, 0});
    for (size_t b = 0; b < buckets_.size(); ++b) {
      int64_t at = 0;
      for (size_t k : buckets_[b]) {
        slot_[k] = {static_cast<int64_t>(b), at};
        at += layout_[k];
      }
    }
  }

  std::vector<double> sum(const std::vector<double>& v) override {
    return reduce(v, c10d::ReduceOp::SUM);
  }
  std::vector<double> min(const std::vector<double>& v) override {
    return reduce(v, c10d::ReduceOp::MIN);
  }
  std::vector<double> max(const std::vector<double>& v) override {
    return reduce(v, c10d::ReduceOp::MAX);
  }

 private:
  std::vector<double> reduce(const std::vector<double>& v, c10d::ReduceOp op) {
    auto t = torch::tensor(v, torch::kDouble);
    std::vector<torch::Tensor> one = {t};
    c10d::AllreduceOptions o;
    o.reduceOp = op;
    wait(pg_->allreduce(one, o));
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  }
  // A collective that fails names why: another rank died (its connections closed) or
  // did not arrive within dist_timeout_s.
  void wait(const c10::intrusive_ptr<c10d::Work>& w) {
    try {
      w->wait();
    } catch (const std::exception& e) {
      throw std::runtime_error("rank " + std::to_string(rank_) +
                               ": a collective failed — another rank died, left or hangs (" +
                               first_line(e.what()) + ")");
    }
  }
  static std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  int rank_, size_;
  std::vector<std::vector<size_t>> buckets_;  // parameter indices per bucket
  std::vector<torch::Tensor> flat_;           // a host buffer per bucket
  std::vector<int64_t> layout_;               // the gradients' sizes they were made for
  int64_t bucket_bytes_ = 0;
  // Overlap: the hooked parameters, their hooks, each one's (bucket, offset), what is left
  // to come per bucket this backward, the buckets started; the hooks run on autograd's
  // thread (a device's, on CUDA).
  std::mutex hook_mutex_;
  std::vector<torch::Tensor> hooked_;
  std::vector<unsigned> hook_ids_;
  std::vector<std::pair<int64_t, int64_t>> slot_;
  std::vector<size_t> pending_;
  std::vector<c10::intrusive_ptr<c10d::Work>> started_, waiting_;
  double share_ = 1.0;
  bool armed_ = false, missed_ = false;
  c10::intrusive_ptr<c10d::TCPStore> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};

}  // namespace
#endif

World* World::get(const RunConfig& c) {
  static std::unique_ptr<World> world;
  static std::once_flag once;
  const DistEnv& env = dist_env();
  if (!env.active()) return nullptr;
#if MAW_HAVE_GLOO
  std::call_once(once, [&] { world = std::make_unique<GlooWorld>(env, c); });
  return world.get();
#else
  (void)c;
  (void)once;
  throw ConfigError(
      "data-parallel training (a world of " + std::to_string(env.world_size) +
      " processes) needs a LibTorch with c10d and Gloo, and Gloo's headers (libgloo-dev)");
#endif
}

}  // namespace maw::train
