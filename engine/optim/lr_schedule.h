// The learning-rate schedule of a run: η_t = η · scale(t), applied before optimizer step
// t + 1 by every optimizer alike (PyTorch's schedulers' semantics: the decoupled weight
// decay is η_t · λ, and MetaAdamW's factors multiply η_t). Torch-free.
#pragma once

#include <cstdint>
#include <string>

namespace maw::optim {

enum class LrSchedule { Constant, Cosine, Linear };

// "constant" | "cosine" | "linear"; throws std::invalid_argument otherwise.
LrSchedule parse_lr_schedule(const std::string& name);

// The factor for the step that follows `done` steps of `total`: a linear warm-up from
// 1/warmup to 1 over the first `warmup` steps, then constant 1, or a cosine or linear
// decay from 1 to `min_ratio` at the last step (PyTorch's CosineAnnealingLR with
// T_max = total − warmup − 1 and eta_min = min_ratio · η; LinearLR likewise).
double lr_scale(LrSchedule schedule, int64_t done, int64_t total, int64_t warmup, double min_ratio);

}  // namespace maw::optim
