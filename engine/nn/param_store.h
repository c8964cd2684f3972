// Parameters that a forward pass can substitute (METAADAMW.md §5).
//
// A model registers its parameters in one ParamStore, each under a dotted name
// ("encoder.layers.1.ffn.linear1.weight") and a slot number. Layers keep slots, not
// tensors; a forward pass reads tensors from a Ctx, whose parameter list can be the
// store's own leaves or any list of the same shapes (θ′ = θ − …) with autograd flowing
// into it. Buffers (BatchNorm running statistics) live beside the parameters and are
// written only when the Ctx says so.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/param_info.h"

namespace maw::nn {

class ParamStore {
 public:
  ParamStore(uint64_t seed, torch::Dtype dtype);

  int add_parameter(ParamInfo info, torch::Tensor init);
  int add_buffer(std::string name, torch::Tensor init);

  const std::vector<torch::Tensor>& parameters() const { return params_; }
  const std::vector<ParamInfo>& info() const { return info_; }
  std::vector<torch::Tensor>& buffers() { return buffers_; }
  const std::vector<torch::Tensor>& buffers() const { return buffers_; }
  const std::vector<std::string>& buffer_names() const { return buffer_names_; }
  int64_t numel() const;
  int size() const { return static_cast<int>(params_.size()); }
  int slot(const std::string& name) const;  // -1 when absent

  torch::TensorOptions options() const { return torch::TensorOptions().dtype(dtype_); }
  at::Generator& init_generator() { return gen_; }

  // Moves parameters (kept as leaves that require grad) and buffers.
  void to(const torch::Device& device);
  // Detached copies of the parameters (new leaves), e.g. for a substituted forward.
  std::vector<torch::Tensor> clone_parameters() const;
  void zero_grad();

 private:
  torch::Dtype dtype_;
  at::Generator gen_;
  std::vector<torch::Tensor> params_;
  std::vector<ParamInfo> info_;
  std::vector<torch::Tensor> buffers_;
  std::vector<std::string> buffer_names_;
};

// Where a layer registers: a module path inside a store, with the module types above it.
class Scope {
 public:
  Scope(ParamStore& store, std::string path, std::vector<std::string> types);
  // A submodule of the given type ("attn", "MultiHeadAttention").
  Scope child(const std::string& name, const std::string& type) const;
  // A path component without a module of its own ("layers", "0").
  Scope sub(const std::string& name) const;

  int param(const std::string& name, torch::Tensor init) const;
  int buffer(const std::string& name, torch::Tensor init) const;
  ParamStore& store() const { return *store_; }
  at::Generator& gen() const { return store_->init_generator(); }
  torch::TensorOptions options() const { return store_->options(); }
  const std::string& path() const { return path_; }

 private:
  std::string join(const std::string& name) const;
  ParamStore* store_;
  std::string path_;
  std::vector<std::string> types_;
};

// How one forward pass runs: on which parameters, in which mode.
struct Ctx {
  const std::vector<torch::Tensor>* params = nullptr;  // θ, or θ′ of the same shapes
  std::vector<torch::Tensor>* buffers = nullptr;       // running statistics
  bool training = true;
  bool update_buffers = false;           // BatchNorm running statistics updated only when asked
  at::Generator* dropout_gen = nullptr;  // dropout masks; the default generator when null
  // Data-parallel SyncBatchNorm (dist_sync_batchnorm): a differentiable sum over the ranks
  // of per-channel statistics; BatchNorm in training normalizes with the global batch's
  // mean and variance when set (null: each rank's own, as DDP by default).
  const std::function<torch::Tensor(const torch::Tensor&)>* sync_sum = nullptr;

  const torch::Tensor& p(int slot) const { return (*params)[static_cast<size_t>(slot)]; }
};

// Slots of a store's parameters in registration order, for Ctx::params.
inline Ctx make_ctx(ParamStore& store, bool training, bool update_buffers) {
  Ctx c;
  c.params = &store.parameters();
  c.buffers = &store.buffers();
  c.training = training;
  c.update_buffers = update_buffers;
  return c;
}

}  // namespace maw::nn
