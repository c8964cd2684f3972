#include "nn/param_store.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace maw::nn {

ParamStore::ParamStore(uint64_t seed, torch::Dtype dtype)
    : dtype_(dtype), gen_(at::detail::createCPUGenerator(seed)) {}

int ParamStore::add_parameter(ParamInfo info, torch::Tensor init) {
  if (slot(info.name) >= 0) throw std::logic_error("duplicate parameter name " + info.name);
  info.shape = init.sizes().vec();
  info.numel = init.numel();
  params_.push_back(init.detach().set_requires_grad(true));
  info_.push_back(std::move(info));
  return static_cast<int>(params_.size()) - 1;
}

int ParamStore::add_buffer(std::string name, torch::Tensor init) {
  buffers_.push_back(init.detach());
  buffer_names_.push_back(std::move(name));
  return static_cast<int>(buffers_.size()) - 1;
}

int64_t ParamStore::numel() const {
  int64_t n = 0;
  for (const auto& i : info_) n += i.numel;
  return n;
}

int ParamStore::slot(const std::string& name) const {
  for (size_t i = 0; i < info_.size(); ++i)
    if (info_[i].name == name) return static_cast<int>(i);
  return -1;
}

void ParamStore::to(const torch::Device& device) {
  for (auto& p : params_) p = p.detach().to(device).set_requires_grad(true);
  for (auto& b : buffers_) b = b.to(device);
}

std::vector<torch::Tensor> ParamStore::clone_parameters() const {
  std::vector<torch::Tensor> out;
  out.reserve(params_.size());
  for (const auto& p : params_) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

void ParamStore::zero_grad() {
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

Scope::Scope(ParamStore& store, std::string path, std::vector<std::string> types)
    : store_(&store), path_(std::move(path)), types_(std::move(types)) {}

std::string Scope::join(const std::string& name) const {
  return path_.empty() ? name : path_ + "." + name;
}

Scope Scope::child(const std::string& name, const std::string& type) const {
  auto types = types_;
  types.push_back(type);
  return Scope(*store_, join(name), std::move(types));
}

Scope Scope::sub(const std::string& name) const {
  return Scope(*store_, join(name), types_);
}

int Scope::param(const std::string& name, torch::Tensor init) const {
  ParamInfo info;
  info.name = join(name);
  info.module_path = path_;
  info.module_types = types_;
  return store_->add_parameter(std::move(info), std::move(init));
}

int Scope::buffer(const std::string& name, torch::Tensor init) const {
  return store_->add_buffer(join(name), std::move(init));
}

}  // namespace maw::nn
