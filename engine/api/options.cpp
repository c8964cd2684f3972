#include "api/options.h"

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

}  // namespace

MetaAdamWOptions& MetaAdamWOptions::design_defaults(ModulatorDesign design) {
  modulator_design_ = design;
  const bool paper = design == ModulatorDesign::paper;
  meta_optimizer_ = paper ? MetaOptimizerKind::sgd : MetaOptimizerKind::adam_tensorwise;
  meta_lr_ = paper ? 1e-4 : kLearningMetaLr;
  learn_lambdas_ = paper;
  return *this;
}

void MetaAdamWOptions::validate() const {
  if (!(alpha_range_ >= 0 && alpha_range_ < 2)) bad("alpha_range", str(alpha_range_), "in [0, 2)");
  if (!(beta_range_ >= 0 && beta_range_ < 2)) bad("beta_range", str(beta_range_), "in [0, 2)");
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
  if (!(dec_target_ > -1.0 && dec_target_ < 1.0)) bad("dec_target", str(dec_target_), "in (-1, 1)");
  if (!(gap_target_ >= 0.0)) bad("gap_target", str(gap_target_), ">= 0");
  if (huw_priorities_.size() != 3)
    bad("huw_priorities", "(" + std::to_string(huw_priorities_.size()) + " values)",
        "three values > 0");
  for (double p : huw_priorities_)
    if (!(p > 0)) bad("huw_priorities", str(p), "three values > 0");
  if (task_types_.size() != 3)
    bad("task_types", "(" + std::to_string(task_types_.size()) + " values)",
        "three of regression | classification");
  if (!(huw_s_max_ > 0)) bad("huw_s_max", str(huw_s_max_), "> 0");
  if (aux_loss_fixed_weights_.size() != 3)
    bad("aux_loss_fixed_weights", "(" + std::to_string(aux_loss_fixed_weights_.size()) + " values)",
        "three values >= 0");
  for (double w : aux_loss_fixed_weights_)
    if (!(w >= 0)) bad("aux_loss_fixed_weights", str(w), "three values >= 0");
  if (!(meta_lr_ > 0)) bad("meta_lr", str(meta_lr_), "> 0");
  if (!(meta_weight_decay_ >= 0)) bad("meta_weight_decay", str(meta_weight_decay_), ">= 0");
}

int64_t MetaAdamWOptions::raw_feature_count() const {
  const int64_t basic = 4 + (use_v_norms_ ? 1 : 0);
  int64_t n = 0;
  switch (features_) {
    case FeatureSet::basic:
    case FeatureSet::norm_basic: n = basic; break;
    case FeatureSet::basic_plus:
    case FeatureSet::norm_basic_plus: n = 2 * basic; break;
    case FeatureSet::enhanced: n = 9 + group_embed_dim_; break;
  }
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
    FeatureSet features;
    bool gating;
    double p_grad, p_dec, p_gap;
  };
  // METAADAMW.md §8: feature_dim = attn_heads (one dimension per head).
  static const Row rows[] = {
      {"image", 190, 64, 64, 6, FeatureSet::basic, false, 5, 2, 1},
      {"forecasting", 217, 8, 16, 6, FeatureSet::basic, true, 1, 1, 1},
      {"sentiment", 39, 64, 64, 11, FeatureSet::basic_plus, true, 1, 3, 5},
      {"translation", 454, 128, 64, 6, FeatureSet::basic, false, 2, 5, 1},
      {"lm", 123, 8, 16, 6, FeatureSet::basic, false, 1, 1, 1},
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
