// For the tests that run the fused CPU kernels once per instruction-set variant
// (optim/cpu_isa.h): the variants this CPU can run, a guard that selects one, and whether
// the composite path's ATen kernels contract multiply-adds (then every variant must equal
// it to the bit).
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "optim/cpu_isa.h"

namespace maw::testing {

inline std::vector<optim::kernel::Isa> runnable_isas() {
  using optim::kernel::Isa;
  std::vector<Isa> out;
  for (Isa isa : {Isa::kBaseline, Isa::kAvx2Fma, Isa::kAvx512})
    if (optim::kernel::isa_supported(isa)) out.push_back(isa);
  return out;
}

class IsaGuard {
 public:
  explicit IsaGuard(optim::kernel::Isa isa) : saved_(optim::kernel::active_isa()) {
    optim::kernel::set_active_isa(isa);
  }
  ~IsaGuard() { optim::kernel::set_active_isa(saved_); }
  IsaGuard(const IsaGuard&) = delete;
  IsaGuard& operator=(const IsaGuard&) = delete;

 private:
  optim::kernel::Isa saved_;
};

// ATen's vectorized kernels (AVX2 and up) compute add-with-alpha and addcmul as one fused
// multiply-add, as our kernels do in every variant; its DEFAULT kernels (a CPU without
// AVX2 and FMA, or ATEN_CPU_CAPABILITY=default) round twice. (ATen's own query is not
// exported by LibTorch 1.13; this is its rule.)
inline bool composite_path_uses_fma() {
  const char* forced = std::getenv("ATEN_CPU_CAPABILITY");
  if (forced && std::string(forced) == "default") return false;
  return optim::kernel::isa_supported(optim::kernel::Isa::kAvx2Fma);
}

inline std::string isa_label(optim::kernel::Isa isa) {
  return std::string("kernel variant ") + optim::kernel::isa_name(isa);
}

}  // namespace maw::testing
