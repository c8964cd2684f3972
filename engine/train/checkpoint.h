// A run's checkpoint (checkpoint_at, --resume): the model's parameters and buffers, the
// optimizer's state, the batch streams' positions, the random generators and early
// stopping — everything a resumed run needs to continue bitwise as the uninterrupted one.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "nn/param_store.h"
#include "train/early_stopping.h"
#include "train/optimizers.h"

namespace maw::train {

// The run's batch streams by name ("train", "meta_train", "meta_val").
using Streams = std::vector<std::pair<const char*, data::BatchStream*>>;

// LibTorch's serialization errors (a damaged archive, a full disk) become one-line
// DataErrors that name the file.
void save_checkpoint(const std::string& path, int64_t step, const nn::ParamStore& store,
                     const RunOptimizer& opt, const Streams& streams, const torch::Device& device,
                     const EarlyStopping& early);
// Returns the step the checkpoint was taken at. `extra_names`: the task's extra metrics.
int64_t load_checkpoint(const std::string& path, nn::ParamStore& store, RunOptimizer& opt,
                        const Streams& streams, const torch::Device& device, EarlyStopping& early,
                        const std::vector<std::string>& extra_names);

}  // namespace maw::train
