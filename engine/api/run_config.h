// RunConfig: everything that defines one training run, as plain C++ values.
//
// Every key has one entry in the schema (run_config.cpp): its name, its meaning, its
// default and what values it allows. The CLI (`--set key=value`, `--config FILE.json`)
// and the studio both go through `set()`, so an unknown key or a bad value gets the
// same message everywhere.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/options.h"

namespace maw {

struct RunConfig {
  // What to train.
  // synthetic | image | lm | translation | sentiment | forecasting
  std::string task = "synthetic";
  std::string preset = "small";     // tiny | small | paper
  std::string optimizer = "adamw";  // adamw | torch_adamw | metaadamw
  // optimizer=adamw's implementation (optim/adamw.h AdamWKernel): auto | ours | aten |
  // composite.
  std::string adamw_kernel = "auto";
  uint64_t seed = 0;

  // How long. steps > 0 wins over epochs; both 0 means the preset's length.
  int64_t steps = 0;
  int64_t epochs = 0;
  int64_t batch_size = 0;  // 0: the preset's
  int64_t eval_every = 0;  // steps between evaluations; 0: once per epoch and at the end
  int64_t log_every = 0;   // steps between progress lines; 0: automatic

  // AdamW hyperparameters, shared by all optimizers (defaults: api/options.h).
  double lr = optim::AdamWOptions().lr();
  double weight_decay = optim::AdamWOptions().weight_decay();
  double beta1 = optim::AdamWOptions().beta1();
  double beta2 = optim::AdamWOptions().beta2();
  double eps = optim::AdamWOptions().eps();
  // The learning-rate schedule, the same for every optimizer (optim/lr_schedule.h):
  // constant | cosine | linear, after a linear warm-up of lr_warmup_steps; the decays end
  // at lr_min_ratio · lr.
  std::string lr_schedule = "constant";
  int64_t lr_warmup_steps = 0;
  double lr_min_ratio = 0.0;

  // MetaAdamW's own options (METAADAMW.md §2–§5; defaults in api/options.h).
  optim::MetaAdamWOptions meta;
  // The paper's best settings per task (§8 table) for the keys not set explicitly:
  // auto (the run's task's, none for synthetic) | none | image | forecasting | sentiment |
  // translation | lm.
  std::string meta_preset = "auto";
  int64_t snapshot_every = 10;   // steps between MetaAdamW snapshots (0: never)
  int64_t attention_every = 10;  // attention maps on snapshot steps that are multiples (0: never)
  // The path in parameter space on this many random directions, every snapshot_every
  // steps, for every optimizer (train/trajectory.h; 0: none).
  int64_t trajectory_directions = 2;
  // Every this many steps θ_t − θ_0 at up to 16 384 sampled coordinates, for the joint PCA
  // of `metaadamw trajectory` (0: never; refused when a run's would exceed 256 MiB).
  int64_t trajectory_full_every = 0;
  // At the end of a run, the loss on a fixed evaluation batch over an N × N grid in the
  // plane of the first two directions through the final point (0: none), its half-width
  // in units of the directions (0: the path's extent around the end, × 1.25).
  int64_t landscape_grid = 0;
  double landscape_range = 0.0;
  // Log the parameters the run ends with, for the probes after it (api/probe.h).
  bool keep_final_parameters = true;
  // Data-parallel training (api/dist.h): the c10d backend, how long a collective or the
  // rendezvous may wait for a rank before the run fails, and every how many steps the ranks
  // compare a checksum of their parameters (0: never).
  std::string dist_backend = "auto";
  int64_t dist_timeout_s = 60;
  int64_t dist_check_every = 0;
  // BatchNorm's batch statistics over the global batch (SyncBatchNorm) instead of each rank's.
  bool dist_sync_batchnorm = false;
  std::string export_modulator;  // write the trained modulator here at the end
  std::string modulator;         // start from a modulator exported by another run

  // Checkpoints (§7): save the whole run state at step `checkpoint_at` to `checkpoint`;
  // `resume` continues a run from such a file.
  std::string checkpoint;
  int64_t checkpoint_at = 0;
  std::string resume;

  // Early stopping on evaluations: monitor eval_loss or eval_metric (direction from the
  // task); stop after `patience` evaluations without an improvement of more than
  // min_delta; restore_best puts the best evaluated parameters back at the end.
  std::string early_stopping = "off";  // off | eval_loss | eval_metric
  int64_t patience = 5;
  double min_delta = 0.0;
  bool restore_best = true;

  // Parameter groups (METAADAMW.md §1).
  std::string groups = "fine_grained";  // per_tensor | per_module | fine_grained | custom
  // custom groups: ordered rules "REGEX=GROUP;REGEX=GROUP"; first match wins.
  std::string group_rules;

  // Where and how.
  std::string device = "auto";    // auto | cpu | cuda
  int64_t threads = 0;            // 0: all cores
  std::string dtype = "float32";  // float32 | float64

  // The synthetic task: a teacher network generated from the seed.
  std::string synthetic_kind = "regression";  // regression | classification
  int64_t synthetic_n_train = 0;              // 0: the preset's
  int64_t synthetic_n_eval = 0;
  int64_t synthetic_input_dim = 0;
  int64_t synthetic_hidden = 0;
  double synthetic_noise = 0.1;  // regression: noise std relative to the target std

  // Where the npm datasets live ("" = $METAADAMW_DATA or ~/.local/share/metaadamw/data).
  std::string data_dir;

  // The image task: CIFAR-style ResNet (width, blocks per stage) on Fashion-MNIST or
  // CIFAR-10 binary batches; 0 sizes mean the whole split.
  std::string image_dataset = "fashion-mnist";  // fashion-mnist | cifar10
  std::string image_cifar_dir;
  int64_t image_width = 0;     // 0: the preset's
  std::string image_blocks;    // "2,2,2,2"; "": the preset's
  int64_t image_n_train = -1;  // -1: the preset's; 0: all
  int64_t image_n_eval = -1;

  // The sequence tasks (lm, translation, sentiment, forecasting): sizes of the model and
  // of the data; 0 (or -1 for counts) means the preset's.
  int64_t model_dim = 0;     // Transformer width; the LSTM's hidden size
  int64_t model_layers = 0;  // per stack (encoder and decoder each)
  int64_t model_heads = 0;
  int64_t model_ffn = 0;            // feed-forward width; the LSTM's embedding size
  double model_dropout = -1;        // -1: the preset's
  int64_t data_vocab = 0;           // vocabulary size cap (specials included)
  int64_t data_max_len = 0;         // tokens per sequence (lm: the context; forecasting: window)
  int64_t data_n_train = -1;        // training examples used (-1: preset, 0: all)
  int64_t data_n_eval = -1;         // evaluation examples used (-1: preset, 0: all)
  std::string lm_dataset = "sotu";  // sotu | wikitext2
  std::string lm_wikitext_dir;      // wiki.{train,valid,test}.{raw,tokens}
  std::string translation_dataset = "bible";  // bible (es→en) | multi30k (de→en)
  std::string translation_multi30k_dir;       // train.{de,en}, val.{de,en}
  int64_t translation_bleu_n = -1;            // eval pairs decoded for BLEU (-1 preset, 0 all)
  std::string sentiment_dataset = "uci";      // uci | imdb
  std::string sentiment_imdb_dir;             // aclImdb/
  std::string forecasting_dataset = "seattle-weather";  // seattle-weather | ett
  std::string forecasting_csv;                          // an ETT CSV (date,…,OT)
  std::string forecasting_target;                       // "": temp_max / OT

  // Keys set explicitly (by a file, --set or a flag): a preset never overrides these.
  std::set<std::string> explicit_keys;

  // Set one key from its text form. Throws ConfigError naming the key and what is
  // allowed, or, for an unknown key, listing the valid keys.
  void set(const std::string& key, const std::string& value);
  // Apply a JSON object (flat `{"lr": 1e-3}` or nested `{"synthetic": {"kind": ...}}`).
  void apply_json_text(const std::string& json_text, const std::string& origin);
  void apply_json_file(const std::string& path);
  // Fill what the user left to the preset (sizes, lengths). Idempotent.
  void resolve_preset();
  // The whole configuration as a JSON object (keys in schema order).
  std::string to_json() const;
  std::string get(const std::string& key) const;

  // The schema, for help texts and for the studio's forms.
  struct KeyInfo {
    std::string key;
    std::string type;     // int | float | string | enum | bool
    std::string allowed;  // human-readable: "adamw | torch_adamw", "> 0", ...
    std::string help;
  };
  static const std::vector<KeyInfo>& keys();
};

}  // namespace maw
