// Which instruction set the fused CPU kernels (adamw_kernel.cpp, stats_kernel.cpp) run:
// chosen by the CPU's *features* (AVX-512F; AVX2 + FMA; baseline x86-64), never by its
// model name, so that an AMD or Intel CPU with AVX2 and FMA gets the AVX2 kernels whether
// or not GCC knows its model (ISSUE step 8: target_clones("arch=haswell") resolves with
// __builtin_cpu_is and left AMD CPUs without AVX-512 on the scalar clone).
//
// Every kernel is compiled once per ISA (kernel_math.h's MAW_FOR_EACH_ISA) and the
// kernels' entry points index a table by active_isa(). All variants do the same
// arithmetic (explicit fma, no other contraction), so their results are equal to the bit
// on a CPU that has FMA; tests/unit/cpu_isa_test.cpp runs each one the CPU can run.
// Torch-free.
#pragma once

#include <optional>
#include <string>

namespace maw::optim::kernel {

enum class Isa { kBaseline = 0, kAvx2Fma = 1, kAvx512 = 2 };
constexpr int kNumIsas = 3;

// "baseline", "avx2+fma", "avx512f".
const char* isa_name(Isa isa);
// Accepts the names above and "avx2", "avx512"; nullopt otherwise.
std::optional<Isa> parse_isa(const std::string& name);

// The best ISA this CPU supports (cpuid feature bits; AVX2 counts only with FMA and OS
// support for the registers, as __builtin_cpu_supports checks).
Isa best_isa();
bool isa_supported(Isa isa);

// What the kernels run now: best_isa(), unless the environment variable
// METAADAMW_CPU_ISA names another supported one (for benchmarks and for checking one
// variant on a bigger CPU). An unknown or unsupported name is reported on stderr once
// and ignored.
Isa active_isa();
// Tests and benchmarks: run the kernels on `isa` from now on (throws std::invalid_argument
// when the CPU cannot run it). Not for use while kernels run on other threads.
void set_active_isa(Isa isa);

// One line for --version and benchmark reports: the active ISA, the CPU's model name and
// its SIMD flags, e.g. "avx512f (AMD EPYC; avx2 fma avx512f …)".
std::string cpu_kernel_summary();
// The CPU's model name and its SIMD-relevant flags from /proc/cpuinfo ("" elsewhere).
std::string cpu_model_name();
std::string cpu_simd_flags();

}  // namespace maw::optim::kernel
