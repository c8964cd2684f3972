// MetaAdamW (METAADAMW.md): AdamW whose learning rate and weight decay are scaled per
// parameter group by factors (α, β) that a Transformer modulator computes from group
// features, the modulator being meta-trained online every K steps.
//
//   step t:  features(g, m, v, p)  →  modulator (no graph)  →  (α, β, λ1, λ2) per group
//            m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//            [every K steps after warm-up: meta-update (§5) — changes the modulator only]
//            p ← p·(1 − η·α·λ·β) − (η·α/bc1)·m/(√v/√bc2 + ε)
//
// With alpha_range = beta_range = 0 the step is bitwise torch's AdamW on CPU.
#pragma once

#include <c10/core/Event.h>
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/options.h"
#include "api/records.h"
#include "nn/param_info.h"
#include "optim/features.h"
#include "optim/meta_optimizer.h"
#include "optim/modulator.h"
#include "optim/param_groups.h"

namespace maw::optim {

// A loss at a parameter list (store order): θ, or the hypothetical θ′.
using LossAt = std::function<torch::Tensor(const std::vector<torch::Tensor>& params)>;

// What a meta-update needs from the trainer (§5): the loss on b2, the next batch of an
// independent shuffled training stream, and on bv, a meta-validation batch.
//
// Data-parallel, each rank evaluates its shard of b2 and bv and the losses are the global
// batches' (summed over the ranks as autograd operations). A gradient of them is then this
// rank's part, and every rank-local quantity follows one rule: the global value is
// Σ_r q_r·x_r, q_r the rank's weight (its share of the training batch). `combine` forms
// that sum of a list of tensors (differentiably: g′ enters the objective), and after the
// backward `reduce` replaces the meta-parameters' gradients by theirs, so that every rank
// takes the same meta-step as one process on the whole batches. Both unset alone.
struct MetaBatches {
  MetaBatches() = default;
  MetaBatches(LossAt train, LossAt val) : train_loss(std::move(train)), val_loss(std::move(val)) {}
  LossAt train_loss;
  LossAt val_loss;
  using Tensors = std::vector<torch::Tensor>;
  std::function<Tensors(const Tensors&)> combine;
  std::function<void(const Tensors&)> reduce;
};

// One meta-objective evaluation (§5 steps 1–6), as graph-connected tensors.
struct MetaTerms {
  torch::Tensor l_grad, l_dec, l_gap;  // undefined when the objective does not use them
  torch::Tensor objective;             // before regularization
  torch::Tensor total;                 // objective + meta weight decay + gating L1
  torch::Tensor factors;               // [G, 4] the forward's (α, β, λ1, λ2), graph-connected
};

class MetaAdamW {
 public:
  // params in model (store) order; infos alike; groups index into them.
  MetaAdamW(std::vector<torch::Tensor> params, const std::vector<nn::ParamInfo>& infos,
            std::vector<ParamGroup> groups, AdamWOptions base, MetaAdamWOptions meta,
            uint64_t seed);

  // One step (§4). When a meta-update is due (§5), `meta` is called once for the batches.
  // With `keep_snapshot`, the step keeps what snapshot() publishes (the attention maps
  // too when `keep_attention`).
  void step(const std::function<MetaBatches()>& meta = {}, bool keep_snapshot = false,
            bool keep_attention = true);
  bool meta_update_due() const;  // for the coming step
  int64_t steps() const { return step_; }
  int64_t meta_updates() const { return meta_updates_; }

  // §6: the last kept step's snapshot, copied to the host in one transfer. For device
  // tensors that transfer starts when the step keeps the snapshot (non-blocking, into
  // pinned host memory, an event recorded behind it), so the step never waits for the
  // host; snapshot() waits for that event only. CPU tensors are read directly.
  Snapshot snapshot() const;
  // Whether snapshot() would return without waiting for the device.
  bool snapshot_ready() const { return !kept_copy_ || kept_copy_->query(); }
  // Device snapshots whose copy was started asynchronously (for tests and the GPU check).
  int64_t async_snapshot_copies() const { return async_copies_; }
  // The meta-update done in the last step, if any (one host transfer per meta-update).
  const std::optional<MetaUpdateRecord>& last_meta_update() const { return last_meta_; }

  // §5 steps 1–6 at explicit inputs; exposed for finite-difference tests.
  struct MetaInputs {
    torch::Tensor stats;                         // [G, S] constant features
    int64_t step = 1;                            // t of the bias corrections
    std::vector<torch::Tensor> theta, m, v, g1;  // m, v after this step's moment update
    std::vector<torch::Tensor> denom;  // √v/√bc2 + ε when already computed (else from v)
    // Per tensor: its own step count (bias corrections; empty: all `step`) and whether it
    // takes this step (a tensor without a gradient does not: θ′ = θ there; empty: all do).
    std::vector<int64_t> tensor_steps;
    std::vector<bool> active;
    MetaBatches batches;
  };
  MetaTerms meta_objective(const MetaInputs& in) const;

  // Meta-parameters by kind: "encoder", "head", "embedding", "group_offsets", "gates",
  // "huw_s" (kinds not in use are absent).
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> meta_parameters() const;

  // §7 state: everything needed to continue exactly.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);
  // The modulator alone (encoder, head, gates) for another run or task (§7). Loading
  // checks that the architecture matches; G may differ (embeddings are not transferred).
  void export_modulator(const std::string& path) const;
  void import_modulator(const std::string& path);

  const std::vector<ParamGroup>& groups() const { return groups_; }
  const MetaAdamWOptions& options() const { return o_; }
  // The base learning rate η of the next steps and meta-updates (a schedule's η_t).
  void set_lr(double lr) { base_.lr(lr); }
  const FeatureExtractor& features() const { return features_; }
  Modulator& modulator() { return modulator_; }
  const Modulator& modulator() const { return modulator_; }
  const torch::Tensor& huw_s() const { return huw_s_; }
  // [G, 4] (α, β, λ1, λ2) of the last step (undefined before the first).
  const torch::Tensor& last_factors() const { return last_factors_; }
  const torch::Tensor& moment(size_t i, bool second) const { return second ? v_[i] : m_[i]; }

  // Testing and benchmarking: use the device-tensor factor path even on CPU (the path
  // that never reads factors on the host).
  void force_device_factor_path(bool on) { force_device_path_ = on; }
  // The fused CPU passes (adamw_kernel.h: moments + statistics, then parameters; on
  // meta-update steps the moments only), or always the composite path (the reference:
  // bitwise torch's AdamW when α = β = 1). Fused by default.
  void set_fused(bool on) { fused_ = on; }

 private:
  void init_state();
  void meta_update(const torch::Tensor& stats, int64_t t, const std::vector<torch::Tensor>& g1,
                   const MetaBatches& batches);
  void apply_update(const torch::Tensor& factors, const std::vector<torch::Tensor>& denom);
  // The meta-objective's terms, in MetaObjective's order of its single-term objectives.
  enum class Term { grad = 0, dec = 1, gap = 2 };
  bool uses(Term term) const;
  // §5 steps 4–6 from the model's values (graph-connected, or stand-ins).
  MetaTerms terms_from(const torch::Tensor& l2, const std::vector<torch::Tensor>& gp,
                       const torch::Tensor& lv_p, const torch::Tensor& lv,
                       const std::vector<torch::Tensor>& g1, const torch::Tensor& lam1,
                       const torch::Tensor& lam2) const;
  torch::Tensor val_loss_at_theta(const MetaInputs& in, at::Generator& gen,
                                  const torch::Tensor& masks) const;
  // §5 step 2: θ′ = θ·(1 − η·α·λ·β) − (η·α/bc1)·m̂/(√v̂ + ε), differentiable in the factors.
  std::vector<torch::Tensor> lookahead(const MetaInputs& in, const torch::Tensor& factors) const;
  // §5 steps 3–6 by meta_hessian: exact (g′ with create_graph, a double backward), or
  // finite/central differences of first-order gradients (meta_objective.cpp).
  MetaTerms exact_terms(const MetaInputs& in, const std::vector<torch::Tensor>& theta_p,
                        const torch::Tensor& lam1, const torch::Tensor& lam2) const;
  MetaTerms differenced_terms(const MetaInputs& in, const std::vector<torch::Tensor>& theta_p,
                              const torch::Tensor& lam1, const torch::Tensor& lam2) const;
  void keep(bool keep_snapshot, int64_t t, const torch::Tensor& feats,
            const Modulator::Output& out);
  std::vector<int64_t> param_versions() const;  // what changed the parameters since
  // Per tensor: decay 1 − η·α·λ·β and step −η·α/bc1(t_i); 1 and 0 for a tensor that does
  // not take this step (bitwise unchanged).
  void host_factors(const torch::Tensor& factors, std::vector<double>& decay,
                    std::vector<double>& step_size) const;
  double bias_correction(size_t i, bool second) const;  // 1 − β^t_i of tensor i

  // The meta-update's diagnostics (records.h), as one device tensor [8 + 3 + 4] read in
  // the record's transfer: meta-gradient norms per block, then (after the step) the
  // modulator's relative change, then the factors' at-bound fractions.
  torch::Tensor grad_norms() const;
  torch::Tensor at_bound(const torch::Tensor& factors) const;

  std::vector<torch::Tensor> params_;
  std::vector<ParamGroup> groups_;
  AdamWOptions base_;
  MetaAdamWOptions o_;
  FeatureExtractor features_;
  Modulator modulator_;
  torch::Tensor group_index_;      // [N] int64: group of each tensor
  std::vector<int64_t> group_of_;  // host copy
  torch::Tensor embedding_;        // [G, E] (enhanced features)
  torch::Tensor group_offsets_;    // [G, 2] added to (a, b) (learning design), init 0
  torch::Tensor gates_;            // [D] (feature gating)
  torch::Tensor huw_s_;            // [3] (combined objective with HUW)
  std::unique_ptr<MetaOptimizer> meta_opt_;
  at::Generator dropout_gen_;

  std::vector<torch::Tensor> m_, v_;
  // Per tensor: its step count (torch's AdamW semantics: a tensor without a gradient skips
  // the step, its count too) and whether it takes the current step.
  std::vector<int64_t> tensor_steps_;
  std::vector<bool> active_;
  bool uniform_ = true;               // this step: every tensor active and at the same count
  std::vector<torch::Tensor> denom_;  // scratch √v/√bc2 + ε: a step allocates nothing big
  int64_t step_ = 0;
  int64_t meta_updates_ = 0;
  bool force_device_path_ = false;
  bool fused_ = true;
  // From the last fused parameter pass: [N] Σp² of the updated parameters, and their
  // version counters then (any later in-place change invalidates the sums).
  torch::Tensor p_sums_;
  std::vector<int64_t> p_versions_;

  // Kept for snapshot(): device tensors of the last kept step.
  int64_t kept_step_ = 0;
  torch::Tensor kept_features_, kept_factors_;
  std::vector<torch::Tensor> kept_attention_;
  torch::Tensor kept_host_;                // pinned host buffer of the packed snapshot
  std::unique_ptr<c10::Event> kept_copy_;  // recorded after the copy into kept_host_
  int64_t async_copies_ = 0;
  torch::Tensor packed_snapshot() const;  // one flat float tensor on the kept tensors' device
  std::optional<MetaUpdateRecord> last_meta_;
  torch::Tensor last_factors_;
};

// Device-to-host reads on the optimizer's step path, counted (tests assert there are
// none per tensor).
int64_t host_reads();

}  // namespace maw::optim
