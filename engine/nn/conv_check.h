#pragma once
// A known-answer check of LibTorch's CPU convolution before a run trusts it.
//
// Debian 13's LibTorch 2.6 links the system oneDNN (libdnnl 3.7.2), whose float32
// convolutions return wrong results on some CPUs: on an AVX-512 AMD EPYC, forward for 20
// or 24 input channels and the input gradient for 1–24 channels at stride 1 are off by
// O(1) or NaN, in one thread as in two (the ResNet of the image task diverged within a
// few steps). LibTorch's native kernels (im2col + BLAS) and float64 are unaffected.
// So the first CPU run that convolves compares oneDNN against float64 on a battery of
// small shapes; if any result is wrong, oneDNN is switched off for the process and the
// run says so (RunInfo::cpu_convolution, the log's `cpu_convolution` attribute).
#include <string>

namespace maw::nn {

struct ConvCheck {
  bool onednn_used = false;  // convolutions go through oneDNN after the check
  std::string summary;       // "onednn (checked)", "native: …why…", "native"
};

// Runs once per process (later calls return the first answer). Thread-safe.
const ConvCheck& check_cpu_convolution();

// The check itself, uncached, against the current global setting: the worst relative
// error of oneDNN's forward, input gradient and weight gradient over the battery, and the
// first shape that failed ("" when none did). Exposed for the test.
struct ConvCheckResult {
  double worst_error = 0.0;
  std::string first_failure;
};
ConvCheckResult measure_cpu_convolution();

}  // namespace maw::nn
