// The schema of RunConfig's keys: how each key's text is read into the config, checked
// and written back, with its type, allowed values and help (`metaadamw keys`).
#include "api/config_keys.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>

#include "api/errors.h"

namespace maw::config {
namespace {

[[noreturn]] void bad_value(const std::string& key, const std::string& value,
                            const std::string& allowed) {
  throw ConfigError("invalid value '" + value + "' for key '" + key + "': allowed " + allowed);
}

int64_t parse_int(const std::string& key, const std::string& v, int64_t lo, int64_t hi,
                  const std::string& allowed) {
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || x < lo || x > hi) bad_value(key, v, allowed);
  return static_cast<int64_t>(x);
}

double parse_double(const std::string& key, const std::string& v,
                    const std::function<bool(double)>& ok, const std::string& allowed) {
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x) || !ok(x))
    bad_value(key, v, allowed);
  return x;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  bad_value(key, v, "true | false");
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : v) {
    if (ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (ch != ' ' && ch != '[' && ch != ']' && ch != '"') {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) out += (i ? sep : "") + xs[i];
  return out;
}

Entry enum_key(const std::string& key, std::string RunConfig::*field,
               std::vector<std::string> choices, const std::string& help) {
  const std::string allowed = join(choices, " | ");
  return {{key, "enum", allowed, help},
          [=](RunConfig& c, const std::string& v) {
            for (const auto& ch : choices)
              if (v == ch) {
                c.*field = v;
                return;
              }
            bad_value(key, v, allowed);
          },
          [=](const RunConfig& c) { return Json(c.*field); }};
}

Entry string_key(const std::string& key, std::string RunConfig::*field, const std::string& help) {
  return {{key, "string", "a path or text", help},
          [=](RunConfig& c, const std::string& v) { c.*field = v; },
          [=](const RunConfig& c) { return Json(c.*field); }};
}

Entry int_key(const std::string& key, int64_t RunConfig::*field, int64_t lo,
              const std::string& help) {
  const std::string allowed = "an integer >= " + std::to_string(lo);
  return {{key, "int", allowed, help},
          [=](RunConfig& c, const std::string& v) {
            c.*field = parse_int(key, v, lo, std::numeric_limits<int64_t>::max(), allowed);
          },
          [=](const RunConfig& c) { return Json(c.*field); }};
}

Entry int_key(const std::string& key, int64_t RunConfig::*field, int64_t lo, int64_t hi,
              const std::string& help) {
  const std::string allowed = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  return {
      {key, "int", allowed, help},
      [=](RunConfig& c, const std::string& v) { c.*field = parse_int(key, v, lo, hi, allowed); },
      [=](const RunConfig& c) { return Json(c.*field); }};
}

Entry float_key(const std::string& key, double RunConfig::*field, std::function<bool(double)> ok,
                const std::string& allowed, const std::string& help) {
  return {{key, "float", allowed, help},
          [=](RunConfig& c, const std::string& v) { c.*field = parse_double(key, v, ok, allowed); },
          [=](const RunConfig& c) { return Json(c.*field); }};
}

// Levenshtein distance, ignoring case.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const std::vector<Entry>& schema() {
  static const std::vector<Entry> entries = [] {
    std::vector<Entry> e;
    e.push_back(enum_key("task", &RunConfig::task,
                         {"synthetic", "image", "lm", "translation", "sentiment", "forecasting"},
                         "what to train"));
    e.push_back(enum_key("preset", &RunConfig::preset, {"tiny", "small", "medium", "paper"},
                         "model and data size: tiny (seconds), small (minutes), medium (the "
                         "small models for 1000 steps: 100-200 meta-updates at K = 5-10; "
                         "`study`'s runs), paper"));
    e.push_back(enum_key("optimizer", &RunConfig::optimizer, {"adamw", "torch_adamw", "metaadamw"},
                         "adamw: ours (foreach); torch_adamw: LibTorch's, the reference; "
                         "metaadamw: AdamW with the meta-trained modulator"));
    e.push_back(enum_key("adamw_kernel", &RunConfig::adamw_kernel,
                         {"auto", "ours", "aten", "composite"},
                         "optimizer=adamw's implementation: auto (ours on CPU; on CUDA ATen's "
                         "fused kernel where LibTorch >= 2.4, else composite), ours (our fused "
                         "CPU kernel), aten (at::_fused_adamw_, LibTorch >= 2.4), composite "
                         "(foreach, the reference)"));
    e.push_back({{"seed", "int", "an integer from 0 to 2^64-1", "initialization and data order"},
                 [](RunConfig& c, const std::string& v) {
                   // The whole uint64 range: logs store the seed as uint64.
                   errno = 0;
                   char* end = nullptr;
                   const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
                   if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0])) || *end ||
                       errno == ERANGE)
                     bad_value("seed", v, "an integer from 0 to 18446744073709551615");
                   c.seed = static_cast<uint64_t>(x);
                 },
                 [](const RunConfig& c) { return Json(c.seed); }});
    e.push_back(int_key("steps", &RunConfig::steps, 0, "optimizer steps (0: use epochs)"));
    e.push_back(int_key("epochs", &RunConfig::epochs, 0, "passes over the training split"));
    e.push_back(int_key("batch_size", &RunConfig::batch_size, 0, "0: the preset's"));
    e.push_back(int_key("eval_every", &RunConfig::eval_every, 0,
                        "steps between evaluations (0: each epoch and at the end)"));
    e.push_back(int_key("log_every", &RunConfig::log_every, 0,
                        "steps between progress lines (0: automatic)"));
    const auto positive = [](double x) { return x > 0; };
    const auto non_negative = [](double x) { return x >= 0; };
    const auto unit = [](double x) { return x >= 0 && x < 1; };
    e.push_back(float_key("lr", &RunConfig::lr, positive, "> 0", "learning rate"));
    e.push_back(float_key("weight_decay", &RunConfig::weight_decay, non_negative, ">= 0",
                          "decoupled weight decay"));
    e.push_back(float_key("beta1", &RunConfig::beta1, unit, "in [0, 1)", "first-moment decay"));
    e.push_back(float_key("beta2", &RunConfig::beta2, unit, "in [0, 1)", "second-moment decay"));
    e.push_back(float_key("eps", &RunConfig::eps, positive, "> 0", "denominator epsilon"));
    e.push_back(enum_key("lr_schedule", &RunConfig::lr_schedule, {"constant", "cosine", "linear"},
                         "the learning rate over the run, for every optimizer alike: constant, "
                         "or a cosine or linear decay to lr_min_ratio · lr at the last step"));
    e.push_back(int_key("lr_warmup_steps", &RunConfig::lr_warmup_steps, 0,
                        "steps of linear warm-up from lr/N to lr before the schedule"));
    e.push_back(float_key(
        "lr_min_ratio", &RunConfig::lr_min_ratio, [](double x) { return x >= 0 && x <= 1; },
        "in [0, 1]", "where a decaying schedule ends, as a fraction of lr"));
    e.push_back(enum_key("early_stopping", &RunConfig::early_stopping,
                         {"off", "eval_loss", "eval_metric"}, "what early stopping monitors"));
    e.push_back(int_key("patience", &RunConfig::patience, 1,
                        "evaluations without improvement before stopping"));
    e.push_back(float_key("min_delta", &RunConfig::min_delta, non_negative, ">= 0",
                          "smallest change that counts as an improvement"));
    e.push_back(
        {{"restore_best", "bool", "true | false",
          "early stopping: restore the best evaluated parameters at the end"},
         [](RunConfig& c, const std::string& v) { c.restore_best = parse_bool("restore_best", v); },
         [](const RunConfig& c) { return Json(c.restore_best); }});
    e.push_back(enum_key("groups", &RunConfig::groups,
                         {"per_tensor", "per_module", "fine_grained", "custom"},
                         "parameter grouping strategy"));
    e.push_back(string_key("group_rules", &RunConfig::group_rules,
                           "custom groups: REGEX=GROUP;REGEX=GROUP..., first match wins"));
    e.push_back(enum_key("device", &RunConfig::device, {"auto", "cpu", "cuda"},
                         "auto: cuda when available"));
    e.push_back(int_key("threads", &RunConfig::threads, 0, "intra-op threads (0: all cores)"));
    e.push_back(enum_key("dtype", &RunConfig::dtype, {"float32", "float64"}, "parameter dtype"));
    e.push_back(enum_key("synthetic.kind", &RunConfig::synthetic_kind,
                         {"regression", "classification"}, "teacher-student problem type"));
    e.push_back(int_key("synthetic.n_train", &RunConfig::synthetic_n_train, 0,
                        "training examples (0: preset)"));
    e.push_back(int_key("synthetic.n_eval", &RunConfig::synthetic_n_eval, 0,
                        "evaluation examples (0: preset)"));
    e.push_back(int_key("synthetic.input_dim", &RunConfig::synthetic_input_dim, 0,
                        "input features (0: preset)"));
    e.push_back(int_key("synthetic.hidden", &RunConfig::synthetic_hidden, 0,
                        "student hidden width (0: preset)"));
    e.push_back(float_key("synthetic.noise", &RunConfig::synthetic_noise, non_negative, ">= 0",
                          "regression target noise, relative to the target's std"));
    e.push_back(string_key("data_dir", &RunConfig::data_dir,
                           "where npm datasets live (default $METAADAMW_DATA or "
                           "~/.local/share/metaadamw/data)"));
    e.push_back(enum_key("image.dataset", &RunConfig::image_dataset, {"fashion-mnist", "cifar10"},
                         "image data: Fashion-MNIST (offline) or CIFAR-10 binary batches"));
    e.push_back(string_key("image.cifar_dir", &RunConfig::image_cifar_dir,
                           "folder with data_batch_1..5.bin and test_batch.bin"));
    e.push_back(int_key("image.width", &RunConfig::image_width, 0,
                        "ResNet base width (0: preset; 64 is ResNet-18)"));
    e.push_back(string_key("image.blocks", &RunConfig::image_blocks,
                           "BasicBlocks per stage, e.g. 2,2,2,2 (\"\": preset)"));
    e.push_back(int_key("image.n_train", &RunConfig::image_n_train, -1,
                        "training images used (-1: preset, 0: all)"));
    e.push_back(int_key("image.n_eval", &RunConfig::image_n_eval, -1,
                        "evaluation images used (-1: preset, 0: all)"));
    e.push_back(int_key("model.dim", &RunConfig::model_dim, 0,
                        "sequence tasks: Transformer width / LSTM hidden size (0: preset)"));
    e.push_back(int_key("model.layers", &RunConfig::model_layers, 0,
                        "sequence tasks: layers per stack (0: preset)"));
    e.push_back(int_key("model.heads", &RunConfig::model_heads, 0,
                        "sequence tasks: attention heads (0: preset)"));
    e.push_back(int_key("model.ffn", &RunConfig::model_ffn, 0,
                        "sequence tasks: feed-forward width / LSTM embedding size (0: preset)"));
    e.push_back(float_key(
        "model.dropout", &RunConfig::model_dropout,
        [](double x) { return x == -1 || (x >= 0 && x < 1); }, "in [0, 1), or -1 for the preset's",
        "sequence tasks: dropout"));
    e.push_back(int_key("data.vocab", &RunConfig::data_vocab, 0,
                        "text tasks: vocabulary size cap, specials included (0: preset)"));
    e.push_back(int_key("data.max_len", &RunConfig::data_max_len, 0,
                        "tokens per sequence (lm: context; forecasting: window) (0: preset)"));
    e.push_back(int_key("data.n_train", &RunConfig::data_n_train, -1,
                        "sequence tasks: training examples used (-1: preset, 0: all)"));
    e.push_back(int_key("data.n_eval", &RunConfig::data_n_eval, -1,
                        "sequence tasks: evaluation examples used (-1: preset, 0: all)"));
    e.push_back(enum_key("lm.dataset", &RunConfig::lm_dataset, {"sotu", "wikitext2"},
                         "language model data: State of the Union (offline) or WikiText-2"));
    e.push_back(string_key("lm.wikitext_dir", &RunConfig::lm_wikitext_dir,
                           "folder with wiki.{train,valid,test}.raw (or .tokens)"));
    e.push_back(enum_key("translation.dataset", &RunConfig::translation_dataset,
                         {"bible", "multi30k"},
                         "translation data: Bible es→en (offline) or Multi30k de→en"));
    e.push_back(string_key("translation.multi30k_dir", &RunConfig::translation_multi30k_dir,
                           "folder with train.{de,en} and val.{de,en}"));
    e.push_back(int_key("translation.bleu_n", &RunConfig::translation_bleu_n, -1,
                        "eval pairs greedily decoded for BLEU (-1: preset, 0: all)"));
    e.push_back(enum_key("sentiment.dataset", &RunConfig::sentiment_dataset, {"uci", "imdb"},
                         "sentiment data: UCI labelled sentences (offline) or aclImdb"));
    e.push_back(string_key("sentiment.imdb_dir", &RunConfig::sentiment_imdb_dir,
                           "the aclImdb folder (train/, test/ with pos/ and neg/)"));
    e.push_back(enum_key("forecasting.dataset", &RunConfig::forecasting_dataset,
                         {"seattle-weather", "ett"},
                         "forecasting data: seattle-weather (offline) or an ETT CSV"));
    e.push_back(string_key("forecasting.csv", &RunConfig::forecasting_csv,
                           "forecasting.dataset=ett: the CSV (date,HUFL,…,OT)"));
    e.push_back(string_key("forecasting.target", &RunConfig::forecasting_target,
                           "column to forecast (\"\": temp_max, or OT for ETT)"));

    // MetaAdamW (METAADAMW.md). Range checks here; cross-option checks in
    // MetaAdamWOptions::validate() when a run starts.
#define META_FLOAT(NAME, OK, ALLOWED, HELP)                        \
  e.push_back({{#NAME, "float", ALLOWED, HELP},                    \
               [=](RunConfig& c, const std::string& v) {           \
                 c.meta.NAME(parse_double(#NAME, v, OK, ALLOWED)); \
               },                                                  \
               [](const RunConfig& c) { return Json(c.meta.NAME()); }})
#define META_INT(NAME, LO, HELP)                                                          \
  e.push_back({{#NAME, "int", "an integer >= " #LO, HELP},                                \
               [](RunConfig& c, const std::string& v) {                                   \
                 c.meta.NAME(parse_int(#NAME, v, LO, std::numeric_limits<int64_t>::max(), \
                                       "an integer >= " #LO));                            \
               },                                                                         \
               [](const RunConfig& c) { return Json(c.meta.NAME()); }})
#define META_BOOL(NAME, HELP)                                                                 \
  e.push_back({{#NAME, "bool", "true | false", HELP},                                         \
               [](RunConfig& c, const std::string& v) { c.meta.NAME(parse_bool(#NAME, v)); }, \
               [](const RunConfig& c) { return Json(c.meta.NAME()); }})
// An enum option: its allowed names from the enum's one name table (api/options.h).
#define META_ENUM(NAME, HELP)                                                                 \
  e.push_back(                                                                                \
      {{#NAME, "enum",                                                                        \
        enum_choices<std::decay_t<decltype(std::declval<RunConfig>().meta.NAME())>>(), HELP}, \
       [](RunConfig& c, const std::string& v) { c.meta.NAME(std::string_view(v)); },          \
       [](const RunConfig& c) { return Json(name_of(c.meta.NAME())); }})
    META_ENUM(modulator_design,
              "the modulator's design: learning (identity start, scale-free inputs, normalized "
              "head, Adam; docs/MODULATOR.md) or paper (as published; saturates)");
    META_BOOL(learn_lambdas,
              "λ1, λ2 from the modulator's head (paper) instead of fixed at ½ (default: the "
              "design's)");
    const auto range2 = [](double x) { return x >= 0 && x < 2; };
    META_FLOAT(alpha_range, range2, "in [0, 2)", "α = 1 + alpha_range·(σ(a) − ½)");
    META_FLOAT(beta_range, range2, "in [0, 2)", "β = 1 + beta_range·(σ(b) − ½)");
    META_ENUM(features, "group features the modulator reads");
    META_BOOL(use_v_norms, "add mean ‖v‖ to the basic features");
    META_BOOL(include_time_step, "append the time feature t/T");
    META_INT(feature_dim, 0, "modulator width (0: smallest multiple of attn_heads that fits)");
    META_BOOL(use_feature_gating, "multiply features by learnable σ(gates)");
    META_FLOAT(feature_gating_sparsity, non_negative, ">= 0", "L1 weight on the gates");
    META_INT(group_embed_dim, 0, "learnable group embedding size (enhanced features)");
    META_INT(attn_layers, 1, "modulator encoder layers");
    META_INT(attn_heads, 1, "modulator attention heads");
    META_INT(attn_hidden_dim, 1, "modulator FFN width");
    META_FLOAT(attn_dropout, unit, "in [0, 1)", "modulator dropout");
    META_INT(meta_update_freq, 1, "K: steps between meta-updates");
    META_INT(meta_warmup_steps, 0, "no meta-update before this step");
    META_ENUM(meta_objective, "meta-objective");
    META_BOOL(use_huw, "combined objective: priority-injected uncertainty weighting");
    META_FLOAT(huw_s_max, positive, "> 0", "HUW log-variances are kept in [-s_max, s_max]");
    META_ENUM(meta_targets,
              "L_dec and L_gap as in §5 (relative) or pulled to fixed targets (ablation)");
    META_FLOAT(
        dec_target, [](double x) { return x > -1 && x < 1; }, "in (-1, 1)",
        "meta_targets=fixed: the relative loss decrease per step L_dec aims at");
    META_FLOAT(gap_target, non_negative, ">= 0",
               "meta_targets=fixed: the generalization gap L_gap aims at");
    META_ENUM(meta_hessian,
              "L_grad's Hessian-vector product: a forward difference of two gradients (one more "
              "backward), a central one (two more; O(ε²), for meta_objective=gradient) or the "
              "exact double backward");
    META_FLOAT(meta_lr, positive, "> 0", "meta-optimizer learning rate (default: the design's)");
    META_ENUM(meta_optimizer,
              "meta-optimizer (default: the design's; adam_tensorwise: one second moment per "
              "tensor)");
    META_FLOAT(meta_weight_decay, non_negative, ">= 0", "weight of Σ‖W‖₂ over the modulator");
#undef META_FLOAT
#undef META_INT
#undef META_BOOL
#undef META_ENUM
    auto list3 = [](const std::string& key, const std::string& allowed, auto ok) {
      return [=](const std::string& v) {
        const auto items = split_list(v);
        if (items.size() != 3) bad_value(key, v, allowed);
        std::vector<double> out;
        for (const auto& it : items) out.push_back(parse_double(key, it, ok, allowed));
        return out;
      };
    };
    e.push_back({{"huw_priorities", "list", "three values > 0, e.g. 5,2,1",
                  "priorities π of (L_grad, L_dec, L_gap)"},
                 [=](RunConfig& c, const std::string& v) {
                   c.meta.huw_priorities(
                       list3("huw_priorities", "three values > 0, e.g. 5,2,1", positive)(v));
                 },
                 [](const RunConfig& c) { return Json(c.meta.huw_priorities()); }});
    e.push_back({{"aux_loss_fixed_weights", "list", "three values >= 0, e.g. 1,1,1",
                  "combined objective without HUW: weights of (L_grad, L_dec, L_gap)"},
                 [=](RunConfig& c, const std::string& v) {
                   c.meta.aux_loss_fixed_weights(list3(
                       "aux_loss_fixed_weights", "three values >= 0, e.g. 1,1,1", non_negative)(v));
                 },
                 [](const RunConfig& c) { return Json(c.meta.aux_loss_fixed_weights()); }});
    e.push_back({{"task_types", "list", "three of " + enum_choices<optim::TermType>(),
                  "HUW term types of (L_grad, L_dec, L_gap)"},
                 [](RunConfig& c, const std::string& v) {
                   const auto items = split_list(v);
                   const std::string allowed = "three of " + enum_choices<optim::TermType>();
                   if (items.size() != 3) bad_value("task_types", v, allowed);
                   std::vector<optim::TermType> types;
                   for (const auto& it : items) {
                     const auto t = enum_from<optim::TermType>(it);
                     if (!t) bad_value("task_types", it, allowed);
                     types.push_back(*t);
                   }
                   c.meta.task_types(types);
                 },
                 [](const RunConfig& c) {
                   Json names = Json::array();
                   for (const auto t : c.meta.task_types()) names.push_back(name_of(t));
                   return names;
                 }});
    e.push_back(enum_key("meta_preset", &RunConfig::meta_preset,
                         {"auto", "none", "image", "forecasting", "sentiment", "translation", "lm"},
                         "the paper's best MetaAdamW settings for a task (METAADAMW.md §8); "
                         "auto: the run's task's (none for synthetic)"));
    e.push_back(int_key("snapshot_every", &RunConfig::snapshot_every, 0,
                        "steps between MetaAdamW snapshots (0: never)"));
    e.push_back(int_key("attention_every", &RunConfig::attention_every, 0,
                        "steps between attention maps, kept on snapshot steps that are its "
                        "multiples (0: never; the maps are [L, H, G, G] each)"));
    e.push_back(int_key("trajectory_directions", &RunConfig::trajectory_directions, 0, 8,
                        "the path in parameter space: θ_t − θ_0 projected on this many fixed "
                        "random filter-normalized directions (the same for every optimizer "
                        "of a seed), and ‖θ_t − θ_0‖ per group, every snapshot_every steps, "
                        "for every optimizer (0: not tracked)"));
    e.push_back(int_key("trajectory_full_every", &RunConfig::trajectory_full_every, 0,
                        "every this many steps θ_t − θ_0 at up to 16 384 sampled coordinates, "
                        "for `metaadamw trajectory` (a joint PCA of runs' paths; 0: never; "
                        "needs trajectory_directions > 0; refused above 256 MiB per run)"));
    e.push_back(int_key("landscape_grid", &RunConfig::landscape_grid, 0, 101,
                        "at the end of the run, the loss on a fixed evaluation batch over an "
                        "N × N grid in the trajectory's plane (directions 1 and 2) through the "
                        "final point, logged for the studio's Trajectory panel (0: none)"));
    e.push_back(float_key("landscape_range", &RunConfig::landscape_range, non_negative, ">= 0",
                          "the landscape's half-width in units of the directions (0: the "
                          "path's extent around its end, × 1.25)"));
    e.push_back(enum_key("dist_backend", &RunConfig::dist_backend, {"auto", "gloo", "nccl"},
                         "data-parallel training's c10d backend (auto: Gloo on a CPU, NCCL on "
                         "CUDA where the LibTorch has it)"));
    e.push_back(int_key("dist_timeout_s", &RunConfig::dist_timeout_s, 1, 86400,
                        "data-parallel: seconds the rendezvous or a collective waits for a rank "
                        "before the run fails (a rank that died or hangs)"));
    e.push_back(int_key("dist_check_every", &RunConfig::dist_check_every, 0,
                        "data-parallel: every this many steps the ranks compare checksums of "
                        "their parameters and MetaAdamW's factors and fail on a difference "
                        "(0: never)"));
    e.push_back({{"dist_sync_batchnorm", "bool", "true | false",
                  "data-parallel: BatchNorm normalizes with the global batch's statistics "
                  "(SyncBatchNorm; two small all-reduces per layer and step) instead of each "
                  "rank's own (false, PyTorch DDP's default)"},
                 [](RunConfig& c, const std::string& v) {
                   c.dist_sync_batchnorm = parse_bool("dist_sync_batchnorm", v);
                 },
                 [](const RunConfig& c) { return Json(c.dist_sync_batchnorm); }});
    e.push_back({{"keep_final_parameters", "bool", "true | false",
                  "log the parameters the run ends with (4 bytes each), from which the "
                  "studio and `metaadamw landscape` / `interpolate` probe the run after it"},
                 [](RunConfig& c, const std::string& v) {
                   c.keep_final_parameters = parse_bool("keep_final_parameters", v);
                 },
                 [](const RunConfig& c) { return Json(c.keep_final_parameters); }});
    e.push_back(string_key("export_modulator", &RunConfig::export_modulator,
                           "write the trained modulator to this file at the end"));
    e.push_back(string_key("modulator", &RunConfig::modulator,
                           "start from a modulator exported by another run"));
    e.push_back(string_key("checkpoint", &RunConfig::checkpoint,
                           "file for the run state saved at checkpoint_at"));
    e.push_back(int_key("checkpoint_at", &RunConfig::checkpoint_at, 0,
                        "step at which to save the run state (0: never)"));
    e.push_back(string_key("resume", &RunConfig::resume, "continue a run from a checkpoint"));
    return e;
  }();
  return entries;
}

const Entry* find(const std::string& key) {
  for (const auto& e : schema())
    if (e.info.key == key) return &e;
  return nullptr;
}

[[noreturn]] void unknown_key(const std::string& key) {
  std::vector<std::string> names;
  std::string best;
  size_t best_d = std::max<size_t>(2, key.size() / 3) + 1;  // suggest within this distance
  std::string lower = key;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  bool case_only = false;  // keys are matched exactly: "LR" is not "lr", but it is said so
  for (const auto& e : schema()) {
    names.push_back(e.info.key);
    const size_t d = lower == e.info.key ? 0 : edit_distance(key, e.info.key);
    if (d < best_d) {
      best_d = d;
      best = e.info.key;
      case_only = d == 0;
    }
  }
  const std::string hint = best.empty() ? ""
                           : case_only  ? " (keys are lower-case: did you mean '" + best + "'?)"
                                        : " (did you mean '" + best + "'?)";
  throw ConfigError("unknown key '" + key + "'" + hint + "; valid keys: " + join(names, ", "));
}

std::string json_scalar_text(const std::string& key, const Json& v, bool list_ok) {
  if (v.is_array()) {  // lists (huw_priorities, task_types) as comma-separated text
    if (!list_ok)
      throw ConfigError("invalid value " + v.dump() + " for key '" + key +
                        "': expected one value, not a list");
    std::string out;
    for (size_t i = 0; i < v.size(); ++i)
      out += (i ? "," : "") + json_scalar_text(key, v[i], /*list_ok=*/false);
    return out;
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    std::ostringstream s;
    s.precision(17);
    s << v.get<double>();
    return s.str();
  }
  throw ConfigError("invalid value " + v.dump() + " for key '" + key +
                    "': expected a number or a string");
}

}  // namespace maw::config
