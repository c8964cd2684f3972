// Options of AdamW and MetaAdamW as plain values (no torch), in the shape of LibTorch's
// option structs: chainable setters, every default named once here, beside its meaning in
// METAADAMW.md. RunConfig (api/) and the optimizers both read these defaults.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"
#include "api/names.h"

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

// An enum field: set from the enum or from its name (ConfigError for another name, saying
// which are allowed); the getter returns the enum.
#define MAW_ENUM_ARG(T, name)                          \
 public:                                               \
  auto name(T new_##name)->decltype(*this) {           \
    this->name##_ = new_##name;                        \
    return *this;                                      \
  }                                                    \
  auto name(std::string_view text)->decltype(*this) {  \
    this->name##_ = ::maw::parse_enum<T>(#name, text); \
    return *this;                                      \
  }                                                    \
  T name() const noexcept {                            \
    return this->name##_;                              \
  }                                                    \
                                                       \
 private:                                              \
  T name##_

namespace maw {

// The enum named `text` for key `key`, or ConfigError "invalid value … allowed a | b".
template <class E>
E parse_enum(const std::string& key, std::string_view text) {
  if (const auto v = enum_from<E>(text)) return *v;
  throw ConfigError("invalid value '" + std::string(text) + "' for key '" + key + "': allowed " +
                    enum_choices<E>());
}

namespace optim {

// The modulator's design (docs/MODULATOR.md).
enum class ModulatorDesign { learning, paper };
// The feature set (METAADAMW.md §2).
enum class FeatureSet { basic, basic_plus, enhanced, norm_basic, norm_basic_plus };
// The meta-objective (§5): one term or the three combined.
enum class MetaObjective { gradient, loss_decrease, gen_gap, combined };
// A term's type in the priority-injected HUW (its ½ factors).
enum class TermType { regression, classification };
// How L_dec and L_gap are formed: minimized (relative) or pulled to fixed targets.
enum class MetaTargets { relative, fixed };
// How L_grad's second-order term is computed.
enum class MetaHessian { finite_difference, central_difference, exact };
// The meta-optimizer.
enum class MetaOptimizerKind { sgd, adam, adam_tensorwise };

}  // namespace optim

MAW_ENUM_NAMES(optim::ModulatorDesign, {optim::ModulatorDesign::learning, "learning"},
               {optim::ModulatorDesign::paper, "paper"});
MAW_ENUM_NAMES(optim::FeatureSet, {optim::FeatureSet::basic, "basic"},
               {optim::FeatureSet::basic_plus, "basic_plus"},
               {optim::FeatureSet::enhanced, "enhanced"},
               {optim::FeatureSet::norm_basic, "norm_basic"},
               {optim::FeatureSet::norm_basic_plus, "norm_basic_plus"});
MAW_ENUM_NAMES(optim::MetaObjective, {optim::MetaObjective::gradient, "gradient"},
               {optim::MetaObjective::loss_decrease, "loss_decrease"},
               {optim::MetaObjective::gen_gap, "gen_gap"},
               {optim::MetaObjective::combined, "combined"});
MAW_ENUM_NAMES(optim::TermType, {optim::TermType::regression, "regression"},
               {optim::TermType::classification, "classification"});
MAW_ENUM_NAMES(optim::MetaTargets, {optim::MetaTargets::relative, "relative"},
               {optim::MetaTargets::fixed, "fixed"});
MAW_ENUM_NAMES(optim::MetaHessian, {optim::MetaHessian::finite_difference, "finite_difference"},
               {optim::MetaHessian::central_difference, "central_difference"},
               {optim::MetaHessian::exact, "exact"});
MAW_ENUM_NAMES(optim::MetaOptimizerKind, {optim::MetaOptimizerKind::sgd, "sgd"},
               {optim::MetaOptimizerKind::adam, "adam"},
               {optim::MetaOptimizerKind::adam_tensorwise, "adam_tensorwise"});

}  // namespace maw

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
  MAW_ENUM_ARG(ModulatorDesign, modulator_design) = ModulatorDesign::learning;
  // Whether λ1, λ2 (the weights of L_grad's two parts) come from the modulator's head
  // (paper) or are fixed at ½ (learning).
  MAW_ARG(bool, learn_lambdas) = false;
  // §3 head ranges: α = 1 + alpha_range·(σ(a) − ½), β likewise; in [0, 2).
  MAW_ARG(double, alpha_range) = 1.0;
  MAW_ARG(double, beta_range) = 1.0;

  // §2 features: basic | basic_plus | enhanced | norm_basic | norm_basic_plus.
  MAW_ENUM_ARG(FeatureSet, features) = FeatureSet::basic;
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
  MAW_ENUM_ARG(MetaObjective, meta_objective) = MetaObjective::combined;
  MAW_ARG(bool, use_huw) = true;
  // Priorities π of (L_grad, L_dec, L_gap) in the priority-injected HUW; > 0.
  MAW_ARG(std::vector<double>, huw_priorities) = std::vector<double>{1.0, 1.0, 1.0};
  // regression | classification per term (the HUW's ½ factors).
  MAW_ARG(std::vector<TermType>, task_types) = std::vector<TermType>{
      TermType::regression, TermType::regression, TermType::regression};
  // HUW log-variances s are kept in [−s_max, s_max] (finite under negative terms).
  MAW_ARG(double, huw_s_max) = 10.0;
  // combined without HUW: fixed weights of (L_grad, L_dec, L_gap).
  MAW_ARG(std::vector<double>, aux_loss_fixed_weights) = std::vector<double>{1.0, 1.0, 1.0};
  // How L_dec and L_gap are formed. relative (METAADAMW.md §5): L_dec = L(θ′;bv) − L(θ;bv),
  // L_gap = |L(θ′;b2) − L(θ′;bv)|. fixed (the referee's ablation): each term is pulled to a
  // fixed target instead of being minimized without end: L_dec = (L(θ′;bv) −
  // (1 − dec_target)·L(θ;bv))², a fixed relative decrease per step; L_gap = (|L(θ′;b2) −
  // L(θ′;bv)| − gap_target)².
  MAW_ENUM_ARG(MetaTargets, meta_targets) = MetaTargets::relative;
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
  MAW_ENUM_ARG(MetaHessian, meta_hessian) = MetaHessian::finite_difference;
  // The learning design's defaults (the paper's: sgd, 1e-4; design_defaults()).
  MAW_ARG(double, meta_lr) = kLearningMetaLr;
  MAW_ENUM_ARG(MetaOptimizerKind, meta_optimizer) = MetaOptimizerKind::adam_tensorwise;
  MAW_ARG(double, meta_weight_decay) = 1e-4;

  // (MAW_ARG leaves the access at private.)
 public:
  // The meta step size of the learning design (a sweep on three tasks: docs/MODULATOR.md).
  static constexpr double kLearningMetaLr = 1e-2;
  // A design's defaults for the keys it decides (meta_optimizer, meta_lr, learn_lambdas),
  // applied over these options; throws ConfigError for an unknown design.
  MetaAdamWOptions& design_defaults(ModulatorDesign design);
  MetaAdamWOptions& design_defaults(std::string_view design) {
    return design_defaults(parse_enum<ModulatorDesign>("modulator_design", design));
  }
  bool paper_design() const { return modulator_design_ == ModulatorDesign::paper; }
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
