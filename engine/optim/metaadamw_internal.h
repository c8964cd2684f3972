// What MetaAdamW's translation units share and nobody else needs (metaadamw.cpp: the step;
// meta_objective.cpp: the meta-objective; metaadamw_io.cpp: state and modulator files).
#pragma once

#include <torch/torch.h>

namespace maw::optim {

// Every device-to-host copy on the step path goes through here, so that it is counted
// (host_reads()).
torch::Tensor to_host(const torch::Tensor& t);

// The generator the model's dropout draws from (nn::dropout without a generator: the
// device's default one), so that a second pass can repeat the first one's masks.
at::Generator model_generator(const torch::Device& device);
torch::Tensor generator_state(at::Generator& gen);
void set_generator_state(at::Generator& gen, const torch::Tensor& state);

}  // namespace maw::optim
