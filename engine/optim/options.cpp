#include "optim/options.h"

#include <sstream>

#include "api/errors.h"

namespace maw::optim {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value,
                      const std::string& allowed) {
  throw ConfigError("invalid value '" + value + "' for key '" + key + "': allowed " + allowed);
}

std::string str(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

bool one_of(const std::string& v, std::initializer_list<const char*> xs) {
  for (const char* x : xs)
    if (v == x) return true;
  return false;
}

}  // namespace

MetaAdamWOptions& MetaAdamWOptions::design_defaults(const std::string& design) {
  if (design == "paper") {
    modulator_design_ = design;
    meta_optimizer_ = "sgd";
    meta_lr_ = 1e-4;
    learn_lambdas_ = true;
  } else if (design == "learning") {
    modulator_design_ = design;
    meta_optimizer_ = "adam_tensorwise";
    meta_lr_ = kLearningMetaLr;
    learn_lambdas_ = false;
  } else {
    bad("modulator_design", design, "learning | paper");
  }
  return *this;
}

void MetaAdamWOptions::validate() const {
  if (!one_of(modulator_design_, {"learning", "paper"}))
    bad("modulator_design", modulator_design_, "learning | paper");
  if (!(alpha_range_ >= 0 && alpha_range_ < 2)) bad("alpha_range", str(alpha_range_), "in [0, 2)");
  if (!(beta_range_ >= 0 && beta_range_ < 2)) bad("beta_range", str(beta_range_), "in [0, 2)");
  if (!one_of(features_, {"basic", "basic_plus", "enhanced", "norm_basic", "norm_basic_plus"}))
    bad("features", features_, "basic | basic_plus | enhanced | norm_basic | norm_basic_plus");
  if (total_steps_ < 0) bad("total_steps", std::to_string(total_steps_), ">= 0");
  if (feature_dim_ < 0) bad("feature_dim", std::to_string(feature_dim_), ">= 0 (0: automatic)");
  if (feature_dim_ > 0 && feature_dim_ < raw_feature_count())
    bad("feature_dim", std::to_string(feature_dim_),
        ">= " + std::to_string(raw_feature_count()) + " (the number of features chosen), or 0");
  if (!(feature_gating_sparsity_ >= 0))
    bad("feature_gating_sparsity", str(feature_gating_sparsity_), ">= 0");
  if (group_embed_dim_ < 0) bad("group_embed_dim", std::to_string(group_embed_dim_), ">= 0");
  if (attn_layers_ < 1) bad("attn_layers", std::to_string(attn_layers_), ">= 1");
  if (attn_heads_ < 1) bad("attn_heads", std::to_string(attn_heads_), ">= 1");
  if (attn_hidden_dim_ < 1) bad("attn_hidden_dim", std::to_string(attn_hidden_dim_), ">= 1");
  if (!(attn_dropout_ >= 0 && attn_dropout_ < 1))
    bad("attn_dropout", str(attn_dropout_), "in [0, 1)");
  if (meta_update_freq_ < 1) bad("meta_update_freq", std::to_string(meta_update_freq_), ">= 1");
  if (meta_warmup_steps_ < 0) bad("meta_warmup_steps", std::to_string(meta_warmup_steps_), ">= 0");
  if (!one_of(meta_targets_, {"relative", "fixed"}))
    bad("meta_targets", meta_targets_, "relative | fixed");
  if (!(dec_target_ > -1.0 && dec_target_ < 1.0)) bad("dec_target", str(dec_target_), "in (-1, 1)");
  if (!(gap_target_ >= 0.0)) bad("gap_target", str(gap_target_), ">= 0");
  if (!one_of(meta_objective_, {"gradient", "loss_decrease", "gen_gap", "combined"}))
    bad("meta_objective", meta_objective_, "gradient | loss_decrease | gen_gap | combined");
  if (huw_priorities_.size() != 3)
    bad("huw_priorities", "(" + std::to_string(huw_priorities_.size()) + " values)",
        "three values > 0");
  for (double p : huw_priorities_)
    if (!(p > 0)) bad("huw_priorities", str(p), "three values > 0");
  if (task_types_.size() != 3)
    bad("task_types", "(" + std::to_string(task_types_.size()) + " values)",
        "three of regression | classification");
  for (const auto& t : task_types_)
    if (!one_of(t, {"regression", "classification"}))
      bad("task_types", t, "three of regression | classification");
  if (!(huw_s_max_ > 0)) bad("huw_s_max", str(huw_s_max_), "> 0");
  if (aux_loss_fixed_weights_.size() != 3)
    bad("aux_loss_fixed_weights", "(" + std::to_string(aux_loss_fixed_weights_.size()) + " values)",
        "three values >= 0");
  for (double w : aux_loss_fixed_weights_)
    if (!(w >= 0)) bad("aux_loss_fixed_weights", str(w), "three values >= 0");
  if (!(meta_lr_ > 0)) bad("meta_lr", str(meta_lr_), "> 0");
  if (!one_of(meta_hessian_, {"finite_difference", "central_difference", "exact"}))
    bad("meta_hessian", meta_hessian_, "finite_difference | central_difference | exact");
  if (!one_of(meta_optimizer_, {"sgd", "adam", "adam_tensorwise"}))
    bad("meta_optimizer", meta_optimizer_, "sgd | adam | adam_tensorwise");
  if (!(meta_weight_decay_ >= 0)) bad("meta_weight_decay", str(meta_weight_decay_), ">= 0");
}

int64_t MetaAdamWOptions::raw_feature_count() const {
  const int64_t basic = 4 + (use_v_norms_ ? 1 : 0);
  int64_t n = 0;
  if (features_ == "basic" || features_ == "norm_basic")
    n = basic;
  else if (features_ == "basic_plus" || features_ == "norm_basic_plus")
    n = 2 * basic;
  else if (features_ == "enhanced")
    n = 9 + group_embed_dim_;
  return n + (include_time_step_ ? 1 : 0);
}

int64_t MetaAdamWOptions::resolved_feature_dim() const {
  const int64_t want = feature_dim_ > 0 ? feature_dim_ : raw_feature_count();
  return (want + attn_heads_ - 1) / attn_heads_ * attn_heads_;
}

MetaAdamWOptions paper_best_settings(const std::string& task) {
  struct Row {
    const char* task;
    int64_t k, layers, ffn, heads;
    const char* features;
    bool gating;
    double p_grad, p_dec, p_gap;
  };
  // METAADAMW.md §8: feature_dim = attn_heads (one dimension per head).
  static const Row rows[] = {
      {"image", 190, 64, 64, 6, "basic", false, 5, 2, 1},
      {"forecasting", 217, 8, 16, 6, "basic", true, 1, 1, 1},
      {"sentiment", 39, 64, 64, 11, "basic_plus", true, 1, 3, 5},
      {"translation", 454, 128, 64, 6, "basic", false, 2, 5, 1},
      {"lm", 123, 8, 16, 6, "basic", false, 1, 1, 1},
  };
  for (const auto& r : rows) {
    if (task != r.task) continue;
    MetaAdamWOptions o;
    o.meta_update_freq(r.k)
        .attn_layers(r.layers)
        .attn_hidden_dim(r.ffn)
        .attn_heads(r.heads)
        .feature_dim(r.heads)
        .features(r.features)
        .use_feature_gating(r.gating)
        .huw_priorities({r.p_grad, r.p_dec, r.p_gap});
    return o;
  }
  throw ConfigError("invalid value '" + task +
                    "' for key 'meta_preset': allowed none | image | forecasting | sentiment | "
                    "translation | lm");
}

}  // namespace maw::optim
