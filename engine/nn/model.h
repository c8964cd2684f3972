// A model: layers registered in one ParamStore, and a forward pass over a Ctx, so that
// the same model runs on its own parameters or on substituted ones.
#pragma once

#include <torch/torch.h>

#include <string>

#include "data/batch.h"
#include "nn/param_store.h"

namespace maw::nn {

class Model {
 public:
  Model(std::string type, uint64_t seed, torch::Dtype dtype)
      : type_(std::move(type)), store_(seed, dtype) {}
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Outputs (logits or predictions) for a batch.
  virtual torch::Tensor forward(const Ctx& c, const data::Batch& batch) const = 0;

  ParamStore& store() { return store_; }
  const ParamStore& store() const { return store_; }
  const std::string& type() const { return type_; }
  // A Ctx on the model's own parameters.
  Ctx ctx(bool training, bool update_buffers) { return make_ctx(store_, training, update_buffers); }

 protected:
  Scope root() { return Scope(store_, "", {type_}); }

 private:
  std::string type_;
  ParamStore store_;
};

}  // namespace maw::nn
