#include "train/lockstep.h"

#include <torch/torch.h>

#include <chrono>

namespace maw {
namespace {

// The process-wide generators a run draws from (dropout, the meta-objective's masks).
std::vector<at::Generator> global_generators() {
  std::vector<at::Generator> g{at::globalContext().defaultGenerator(at::kCPU)};
  if (torch::cuda::is_available())
    g.push_back(at::globalContext().defaultGenerator(at::Device(at::kCUDA)));
  return g;
}

}  // namespace

Lockstep::Lockstep(int members) : impl_(std::make_unique<Impl>(members)) {}
Lockstep::~Lockstep() = default;

struct Lockstep::Impl::Saved {
  std::vector<torch::Tensor> states;
};

Lockstep::Impl::~Impl() = default;

Lockstep::Impl::Impl(int members)
    : alive_(static_cast<size_t>(std::max(members, 0)), 1),
      states_(static_cast<size_t>(std::max(members, 0))) {}

bool Lockstep::Impl::acquire(int member, const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> lk(mu_);
  // Polls `stop` (set from a signal handler, which cannot notify).
  while (turn_ != member) {
    if (stop.load()) return false;
    cv_.wait_for(lk, std::chrono::milliseconds(20));
  }
  if (const auto& saved = states_[static_cast<size_t>(member)]) {  // (a first turn seeds)
    auto gens = global_generators();
    for (size_t i = 0; i < gens.size() && i < saved->states.size(); ++i) {
      std::lock_guard<std::mutex> g(gens[i].mutex());
      gens[i].set_state(saved->states[i]);
    }
  }
  return true;
}

void Lockstep::Impl::release(int member) {
  std::lock_guard<std::mutex> lk(mu_);
  if (turn_ != member) return;
  auto& saved = states_[static_cast<size_t>(member)];
  if (!saved) saved = std::make_unique<Saved>();
  saved->states.clear();
  for (auto& g : global_generators()) {
    std::lock_guard<std::mutex> gl(g.mutex());
    saved->states.push_back(g.get_state());
  }
  pass_from(member);
}

void Lockstep::Impl::leave(int member) {
  std::lock_guard<std::mutex> lk(mu_);
  alive_[static_cast<size_t>(member)] = 0;
  if (turn_ == member) pass_from(member);
}

void Lockstep::Impl::pass_from(int member) {
  const int n = static_cast<int>(alive_.size());
  turn_ = -1;
  for (int k = 1; k <= n; ++k) {
    const int next = (member + k) % n;
    if (alive_[static_cast<size_t>(next)]) {
      turn_ = next;
      break;
    }
  }
  cv_.notify_all();
}

}  // namespace maw
