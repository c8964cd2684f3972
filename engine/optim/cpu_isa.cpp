#include "optim/cpu_isa.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

namespace maw::optim::kernel {
namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
constexpr bool kX86 = true;
bool cpu_has(Isa isa) {
  __builtin_cpu_init();  // (may run before the runtime's own constructor)
  switch (isa) {
    case Isa::kBaseline: return true;
    case Isa::kAvx2Fma: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
  }
  return false;
}
#else
constexpr bool kX86 = false;
bool cpu_has(Isa isa) {
  return isa == Isa::kBaseline;
}
#endif

Isa detect_best() {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2Fma})
    if (cpu_has(isa)) return isa;
  return Isa::kBaseline;
}

Isa from_environment() {
  const Isa best = detect_best();
  const char* env = std::getenv("METAADAMW_CPU_ISA");
  if (!env || !*env) return best;
  const auto asked = parse_isa(env);
  if (!asked) {
    std::fprintf(stderr,
                 "metaadamw: METAADAMW_CPU_ISA='%s' is not one of baseline, avx2, avx512; "
                 "the CPU kernels run %s\n",
                 env, isa_name(best));
    return best;
  }
  if (!cpu_has(*asked)) {
    std::fprintf(stderr,
                 "metaadamw: METAADAMW_CPU_ISA=%s: this CPU cannot run it; the CPU kernels "
                 "run %s\n",
                 env, isa_name(best));
    return best;
  }
  return *asked;
}

std::atomic<int>& active() {
  static std::atomic<int> a{static_cast<int>(from_environment())};
  return a;
}

// The value of the first "key : value" line of /proc/cpuinfo whose key is `key`.
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto k = line.substr(0, colon);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
    if (k != key) continue;
    auto v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    return v;
  }
  return "";
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kBaseline: return kX86 ? "baseline x86-64" : "baseline";
    case Isa::kAvx2Fma: return "avx2+fma";
    case Isa::kAvx512: return "avx512f";
  }
  return "?";
}

std::optional<Isa> parse_isa(const std::string& name) {
  if (name == "baseline" || name == "baseline x86-64") return Isa::kBaseline;
  if (name == "avx2" || name == "avx2+fma") return Isa::kAvx2Fma;
  if (name == "avx512" || name == "avx512f") return Isa::kAvx512;
  return std::nullopt;
}

Isa best_isa() {
  static const Isa best = detect_best();
  return best;
}

bool isa_supported(Isa isa) {
  return cpu_has(isa);
}

Isa active_isa() {
  return static_cast<Isa>(active().load(std::memory_order_relaxed));
}

void set_active_isa(Isa isa) {
  if (!cpu_has(isa))
    throw std::invalid_argument(std::string("this CPU cannot run the ") + isa_name(isa) +
                                " kernels");
  active().store(static_cast<int>(isa), std::memory_order_relaxed);
}

std::string cpu_model_name() {
  return cpuinfo_field("model name");
}

std::string cpu_simd_flags() {
  std::istringstream words(cpuinfo_field("flags"));
  const std::set<std::string> have{std::istream_iterator<std::string>(words), {}};
  std::string out;
  for (const char* f : {"sse4_2", "avx", "f16c", "fma", "avx2", "avx512f", "avx512bw", "avx512vl",
                        "avx512_bf16"})  // in this order
    if (have.count(f)) out += (out.empty() ? "" : " ") + std::string(f);
  return out;
}

std::string cpu_kernel_summary() {
  std::string s = isa_name(active_isa());
  if (active_isa() != best_isa()) s += std::string(" (forced; best ") + isa_name(best_isa()) + ")";
  const auto model = cpu_model_name(), flags = cpu_simd_flags();
  if (!model.empty() || !flags.empty())
    s += " on " + (model.empty() ? std::string("this CPU") : model) + " [" + flags + "]";
  return s;
}

}  // namespace maw::optim::kernel
