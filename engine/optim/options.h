// Options of AdamW and MetaAdamW as plain values (no torch), in the shape of LibTorch's
// option structs: chainable setters, every default named once here, beside its meaning in
// METAADAMW.md. RunConfig (api/) and the optimizers both read these defaults.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

// A field with a chainable setter and a getter, like TORCH_ARG.
#define MAW_ARG(T, name)                            \
 public:                                            \
  auto name(const T& new_##name)->decltype(*this) { \
    this->name##_ = new_##name;                     \
    return *this;                                   \
  }                                                 \
  const T& name() const noexcept {                  \
    return this->name##_;                           \
  }                                                 \
                                                    \
 private:                                           \
  T name##_

namespace maw::optim {

// METAADAMW.md §8: the paper's Table 1.
struct AdamWOptions {
  explicit AdamWOptions(double lr = 5e-4) : lr_(lr) {}
  AdamWOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
  MAW_ARG(double, lr);
  MAW_ARG(double, weight_decay) = 1e-2;
  MAW_ARG(double, beta1) = 0.9;
  MAW_ARG(double, beta2) = 0.999;
  MAW_ARG(double, eps) = 1e-8;
};

// Everything MetaAdamW adds to AdamW (METAADAMW.md §2–§5, defaults from §8).
struct MetaAdamWOptions {
  // The modulator's design (docs/MODULATOR.md). learning (the default): an identity start
  // (zero-initialised head: α = β = 1, the first steps are AdamW's), scale-free inputs
  // (magnitudes as log RMS, standardized across groups), a LayerNorm before the head,
  // λ1 = λ2 = ½ fixed (not outputs the modulator could move to lower its own objective),
  // Adam with one second moment per tensor as the meta-optimizer, per-group offsets of
  // (a, b). paper: METAADAMW.md §2–§3 as published (raw magnitudes,
  // Xavier head on the un-normalized stream, λ from the head, SGD 1e-4) — it saturates
  // (METAADAMW.md §9), kept to reproduce and show that.
  MAW_ARG(std::string, modulator_design) = "learning";
  // Whether λ1, λ2 (the weights of L_grad's two parts) come from the modulator's head
  // (paper) or are fixed at ½ (learning).
  MAW_ARG(bool, learn_lambdas) = false;
  // §3 head ranges: α = 1 + alpha_range·(σ(a) − ½), β likewise; in [0, 2).
  MAW_ARG(double, alpha_range) = 1.0;
  MAW_ARG(double, beta_range) = 1.0;

  // §2 features: basic | basic_plus | enhanced | norm_basic | norm_basic_plus.
  MAW_ARG(std::string, features) = "basic";
  MAW_ARG(bool, use_v_norms) = true;
  MAW_ARG(bool, include_time_step) = true;
  // T for the time feature t/T; 0 = unknown (then 2·σ(t/1000) − 1). Set by the trainer.
  MAW_ARG(int64_t, total_steps) = 0;
  // 0 = the smallest multiple of attn_heads that holds the features; else rounded up to
  // a multiple of attn_heads.
  MAW_ARG(int64_t, feature_dim) = 0;
  MAW_ARG(bool, use_feature_gating) = false;
  MAW_ARG(double, feature_gating_sparsity) = 1e-4;
  MAW_ARG(int64_t, group_embed_dim) = 4;  // enhanced features only

  // §3 the modulator: pre-norm encoder layers over the G group tokens.
  MAW_ARG(int64_t, attn_layers) = 2;
  MAW_ARG(int64_t, attn_heads) = 4;
  MAW_ARG(int64_t, attn_hidden_dim) = 32;
  MAW_ARG(double, attn_dropout) = 0.0;

  // §5 the meta-update: every K steps after the warm-up.
  MAW_ARG(int64_t, meta_update_freq) = 100;
  MAW_ARG(int64_t, meta_warmup_steps) = 0;
  // gradient | loss_decrease | gen_gap | combined
  MAW_ARG(std::string, meta_objective) = "combined";
  MAW_ARG(bool, use_huw) = true;
  // Priorities π of (L_grad, L_dec, L_gap) in the priority-injected HUW; > 0.
  MAW_ARG(std::vector<double>, huw_priorities) = std::vector<double>{1.0, 1.0, 1.0};
  // regression | classification per term (the HUW's ½ factors).
  MAW_ARG(std::vector<std::string>, task_types) = std::vector<std::string>{
      "regression", "regression", "regression"};
  // HUW log-variances s are kept in [−s_max, s_max] (finite under negative terms).
  MAW_ARG(double, huw_s_max) = 10.0;
  // combined without HUW: fixed weights of (L_grad, L_dec, L_gap).
  MAW_ARG(std::vector<double>, aux_loss_fixed_weights) = std::vector<double>{1.0, 1.0, 1.0};
  // How L_dec and L_gap are formed. relative (METAADAMW.md §5): L_dec = L(θ′;bv) − L(θ;bv),
  // L_gap = |L(θ′;b2) − L(θ′;bv)|. fixed (the referee's ablation): each term is pulled to a
  // fixed target instead of being minimized without end: L_dec = (L(θ′;bv) −
  // (1 − dec_target)·L(θ;bv))², a fixed relative decrease per step; L_gap = (|L(θ′;b2) −
  // L(θ′;bv)| − gap_target)².
  MAW_ARG(std::string, meta_targets) = "relative";  // relative | fixed
  MAW_ARG(double, dec_target) = 0.01;
  MAW_ARG(double, gap_target) = 0.0;
  // How L_grad's second-order term reaches θ′ (§5 step 3: ∂L_grad/∂θ′ = H(θ′; b2)·w, w =
  // ∂L_grad/∂g′). exact: g′ with create_graph, then a double backward through the model (the
  // reference). finite_difference: H·w ≈ (∇L(θ′ + εw; b2) − g′)/ε with the same dropout
  // masks, ε = √(machine ε)·(1 + ‖θ′‖)/‖w‖: one more first-order backward instead of a
  // second-order graph (2–4× cheaper per meta-update: BENCHMARKS.md; meta-gradients agree
  // to ~1e-3 in float32, tests hold them to the exact ones).
  // central_difference: (∇L(θ′ + εw) − ∇L(θ′ − εw))/2ε, one pass more, O(ε²): for
  // meta_objective=gradient, where H·w is the whole meta-gradient (docs/MODULATOR.md).
  MAW_ARG(std::string,
          meta_hessian) = "finite_difference";  // finite_difference | central_difference | exact
  // The learning design's defaults (the paper's: sgd, 1e-4; design_defaults()).
  MAW_ARG(double, meta_lr) = kLearningMetaLr;
  MAW_ARG(std::string, meta_optimizer) = "adam_tensorwise";  // sgd | adam | adam_tensorwise
  MAW_ARG(double, meta_weight_decay) = 1e-4;

  // (MAW_ARG leaves the access at private.)
 public:
  // The meta step size of the learning design (a sweep on three tasks: docs/MODULATOR.md).
  static constexpr double kLearningMetaLr = 1e-2;
  // A design's defaults for the keys it decides (meta_optimizer, meta_lr, learn_lambdas),
  // applied over these options; throws ConfigError for an unknown design.
  MetaAdamWOptions& design_defaults(const std::string& design);
  bool paper_design() const { return modulator_design_ == "paper"; }
  // Checks every value; throws ConfigError naming the option and what is allowed.
  void validate() const;
  // Number of feature values before padding (statistics, embedding, time).
  int64_t raw_feature_count() const;
  // feature_dim as used: ≥ raw_feature_count, a multiple of attn_heads.
  int64_t resolved_feature_dim() const;
};

// The paper's best per-task settings (METAADAMW.md §8 table), by task name: image,
// forecasting, sentiment, translation, lm. Throws ConfigError for another name.
MetaAdamWOptions paper_best_settings(const std::string& task);

}  // namespace maw::optim
