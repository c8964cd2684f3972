// The turns of runs in lockstep (api/session.h, Lockstep): one baton passed round-robin
// among the members still training, and per member the state of the process-wide random
// generators (CPU, and CUDA where present) while it does not hold the baton.
// Torch-free (RunControl includes it); the generator states live in lockstep.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "api/session.h"

namespace maw {

struct Lockstep::Impl {
  explicit Impl(int members);
  ~Impl();
  // Blocks until it is `member`'s turn (true) or `stop` is set (false); then the member's
  // generator states are in place.
  bool acquire(int member, const std::atomic<bool>& stop);
  // Ends `member`'s turn: its generator states are kept, the next member's turn begins.
  void release(int member);
  // `member` trains no more (finished, stopped or failed): its turn, if it holds it, passes.
  void leave(int member);

 private:
  void pass_from(int member);  // with mu_ held
  std::mutex mu_;
  std::condition_variable cv_;
  int turn_ = 0;
  std::vector<char> alive_;
  struct Saved;                                 // CPU [, CUDA] generator states
  std::vector<std::unique_ptr<Saved>> states_;  // per member; null before its first turn ends
};

}  // namespace maw
