// The optimizers a run can use, behind one small interface for the trainer.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/records.h"
#include "api/run_config.h"
#include "nn/param_store.h"
#include "optim/metaadamw.h"
#include "optim/param_groups.h"

namespace maw::train {

class RunOptimizer {
 public:
  virtual ~RunOptimizer() = default;
  // One step on the parameters' .grad(). `keep_snapshot`: keep what snapshot() shows,
  // with the attention maps when `keep_attention`.
  virtual void step(bool keep_snapshot, bool keep_attention) = 0;
  // The learning rate η of the next steps (a schedule's η_t), for every group.
  virtual void set_lr(double lr) = 0;
  // Fills what RunInfo says about the optimizer (MetaAdamW: features, layers, heads).
  virtual void describe(RunInfo& /*info*/) const {}
  virtual int64_t meta_updates() const { return 0; }
  // MetaAdamW only: the snapshot of the last kept step, the last step's meta-update.
  virtual std::optional<Snapshot> snapshot() const { return std::nullopt; }
  // Whether snapshot() can return without waiting (a device snapshot's copy is in flight
  // until the device gets there; the trainer then publishes it a step later).
  virtual bool snapshot_ready() const { return true; }
  virtual std::optional<MetaUpdateRecord> last_meta_update() const { return std::nullopt; }
  // MetaAdamW only: the last step's factors [G, 4] (undefined otherwise).
  virtual torch::Tensor last_factors() const { return {}; }
  virtual void save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;
  virtual void export_modulator(const std::string& /*path*/) const;
  virtual void import_modulator(const std::string& /*path*/);
};

// `adamw` (ours, one group per parameter group), `torch_adamw` (LibTorch's reference, one
// group over all tensors) or `metaadamw`, which calls `meta_batches` when a meta-update
// is due.
std::unique_ptr<RunOptimizer> make_optimizer(const RunConfig& config, nn::ParamStore& store,
                                             const std::vector<optim::ParamGroup>& groups,
                                             std::function<optim::MetaBatches()> meta_batches);

}  // namespace maw::train
