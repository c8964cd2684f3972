#!/usr/bin/env bash
# The evidence study (issue step 11), unattended and resumable: rerun it after an
# interruption and every task continues where it stopped (finished runs are read back,
# never repeated).
#   pass 1, per task: `metaadamw study` — AdamW tuned on the validation split, MetaAdamW
#           at its η, λ, both on 5 fresh seeds;
#   pass 2, per task: the referee's questions as variants of that study, on the same
#           seeds (docs/CLI.md): fixed-targets (the ablation), paper-design (the paper's
#           modulator and meta_lr), paper-settings (the paper's untuned η, λ and per-task
#           K, both optimizers), cosine (both under a cosine decay of η: MetaAdamW's α
#           learned a decay on image), transfer (the modulator MetaAdamW learned on
#           forecasting — on lm for forecasting itself — in that task's architecture);
#   then `metaadamw report` over the finished tasks (Holm across them) and the figures
#   (`metaadamw-studio --figures`).
#
#   scripts/evidence.sh [--pass 1|2|all] [TASK...]   default: all; pass 1 on the five
#                                                    tasks, pass 2 on forecasting and image
#
# Pass 2 costs 35 more runs per task (25 of them MetaAdamW): about an hour on image, two
# on lm; its default is the two cheapest tasks of two model families (a Transformer, a
# CNN). Name others to run it there.
#
#   scripts/evidence.sh --fresh [--pass …] TASK…     starts those tasks' studies anew (their
#                                                    committed results stay until the new
#                                                    ones finish)
#   METAADAMW_EVIDENCE_VARIANTS=fixed-targets,transfer scripts/evidence.sh --pass 2 lm
#                                                    runs only the variants named
#   scripts/evidence.sh --save                       copies the JSON of every unfinished
#                                                    study to results/evidence/unfinished/
#
# The logs (one HDF5 file per run) go to $METAADAMW_EVIDENCE_DIR (default
# ~/metaadamw-evidence); the JSON indexes are copied to results/evidence/TASK/, the report
# to results/evidence/report.{md,json}, the figures to results/evidence/TASK/*.png|svg.
# Across machines: a study's JSON records every finished run (summary and evaluations),
# so a task whose log folder is missing here starts from the committed JSON —
# results/evidence/unfinished/TASK (saved with --save) or else results/evidence/TASK — and
# continues without repeating a run (`study --continue` reads a run whose log is absent
# back from study.json). The modulator that the transfer variant loads is committed too
# (results/evidence/TASK/modulator-seed100.pt).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${METAADAMW_BUILD_DIR:-$root/build}"
cli="$build/app/metaadamw"
studio="$build/app/metaadamw-studio"
[ -x "$cli" ] || "$root/scripts/build.sh" --target metaadamw
logs="${METAADAMW_EVIDENCE_DIR:-$HOME/metaadamw-evidence}"
out="$root/results/evidence"
pass=all fresh=0
if [ "${1:-}" = --fresh ]; then fresh=1; shift; fi
if [ "${1:-}" = --pass ]; then pass="$2"; shift 2; fi
if [ "${1:-}" = --save ]; then pass=save; shift; fi
case "$pass" in 1 | 2 | all | save) ;; *) echo "evidence: --pass 1, 2 or all" >&2; exit 2 ;; esac
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(forecasting image sentiment lm translation)
mkdir -p "$logs" "$out"

# The paper's K per task (METAADAMW.md §8) and the task whose modulator each one receives.
paper_k() { case "$1" in image) echo 190 ;; forecasting) echo 217 ;; sentiment) echo 39 ;;
  translation) echo 454 ;; lm) echo 123 ;; esac; }
source_of() { [ "$1" = forecasting ] && echo lm || echo forecasting; }
# AdamW's learning-rate grid where the default (3e-5 … 1e-2) was too narrow: sentiment's
# BiLSTM chose 1e-2, its top.
grid_of() { case "$1" in
  sentiment) echo --grid lr=3e-5,1e-4,3e-4,1e-3,3e-3,1e-2,3e-2 --grid weight_decay=0,0.01 ;;
  esac; }

complete() { grep -q '"complete": true' "$logs/$1/protocol.json" 2> /dev/null; }

# A study's JSON (protocol.json, one PHASE.json per phase) from its log folder to DEST.
export_json() {
  local dir="$1" dest="$2"
  mkdir -p "$dest"
  cp "$dir/protocol.json" "$dest/"
  for phase in "$dir"/tune-adamw "$dir"/tune-metaadamw "$dir"/compare "$dir"/variant-*; do
    [ -f "$phase/study.json" ] && cp "$phase/study.json" "$dest/$(basename "$phase").json"
  done
  return 0
}

# The other way: a task with no log folder here starts from its committed JSON.
import_json() {
  local task="$1" dir="$logs/$1" src
  [ -f "$dir/protocol.json" ] && return 0
  [ "$fresh" = 1 ] && return 0
  for src in "$out/unfinished/$task" "$out/$task"; do
    [ -f "$src/protocol.json" ] || continue
    echo "evidence: $task continues from $src (its logs are not on this machine)" >&2
    mkdir -p "$dir"
    cp "$src/protocol.json" "$dir/"
    for json in "$src"/*.json; do
      [ "$(basename "$json")" = protocol.json ] && continue
      mkdir -p "$dir/$(basename "$json" .json)"
      cp "$json" "$dir/$(basename "$json" .json)/study.json"
    done
    [ -f "$src/modulator-seed100.pt" ] && mkdir -p "$dir/compare" &&
      cp -n "$src/modulator-seed100.pt" "$dir/compare/"
    return 0
  done
}

if [ "$pass" = save ]; then
  for dir in "$logs"/*/; do
    task="$(basename "$dir")"
    [ -f "$dir/protocol.json" ] || continue
    if complete "$task" && [ -f "$out/$task/protocol.json" ] &&
      cmp -s "$dir/protocol.json" "$out/$task/protocol.json"; then
      continue  # finished and already copied
    fi
    rm -rf "$out/unfinished/$task"
    export_json "$dir" "$out/unfinished/$task"
    echo "evidence: saved $task's JSON to $out/unfinished/$task" >&2
  done
  exit 0
fi

# A finished study's JSON and figures into results/evidence/TASK (an unfinished one leaves
# the results of the last finished one there).
copy_results() {
  local task="$1" dir="$logs/$1"
  complete "$task" || return 0
  export_json "$dir" "$out/$task"
  rm -rf "$out/unfinished/$task"
  [ -f "$dir/compare/modulator-seed100.pt" ] && cp "$dir/compare/modulator-seed100.pt" "$out/$task/"
  if [ -x "$studio" ] && [ -d "$dir/compare" ] && ls "$dir"/compare/*.h5 > /dev/null 2>&1; then
    "$studio" --figures "$out/$task" "$dir" > /dev/null || echo "evidence: no figures for $task" >&2
  fi
  return 0
}

run_study() {  # TASK [variant options...]
  local task="$1" dir="$logs/$1"
  shift
  local more=()
  import_json "$task"
  [ -f "$dir/protocol.json" ] && more=(--continue)
  local start status=0
  start=$(date +%s)
  echo "== $task → $dir ${more[*]} $*" >&2
  # Threads per run ($METAADAMW_EVIDENCE_THREADS; default all cores): two studies side by
  # side at one thread each use 2 cores better than one at two (small models).
  [ -n "${METAADAMW_EVIDENCE_THREADS:-}" ] && more+=(--threads "$METAADAMW_EVIDENCE_THREADS")
  # shellcheck disable=SC2046  # the grid's words, split on purpose
  "$cli" study --task "$task" --log-dir "$dir" --quiet "${more[@]}" $(grid_of "$task") "$@" ||
    status=$?
  echo "== $task: exit $status after $(( $(date +%s) - start )) s" >&2
  copy_results "$task"
  return "$status"
}


if [ "$pass" != 2 ]; then
  for task in "${tasks[@]}"; do run_study "$task"; done
fi
variant_tasks=("$@")
[ ${#variant_tasks[@]} -gt 0 ] || variant_tasks=(forecasting image)
if [ "$pass" != 1 ]; then
  for task in "${variant_tasks[@]}"; do
    import_json "$task"
    import_json "$(source_of "$task")"
    complete "$task" || { echo "evidence: $task has no finished study for pass 2" >&2; continue; }
    src="$(source_of "$task")"
    # The ablation and the transfer first (the referee's two questions), then the rest.
    all=(fixed-targets:meta_targets=fixed)
    modulator="$logs/$src/compare/modulator-seed100.pt"
    if [ -f "$modulator" ]; then
      all+=("transfer:modulator=$modulator,meta_preset=$src")
    else
      echo "evidence: $task: no modulator from $src yet ($modulator): no transfer variant" >&2
    fi
    all+=("paper-design:modulator_design=paper,meta_lr=1e-4"
      "both:paper-settings:lr=5e-4,weight_decay=0.01,meta_update_freq=$(paper_k "$task")"
      both:cosine:lr_schedule=cosine)
    variants=()
    for v in "${all[@]}"; do
      name="${v#both:}"
      name="${name%%:*}"
      # $METAADAMW_EVIDENCE_VARIANTS (comma-separated names) runs only those, e.g. the
      # ablation and the transfer where a session has no time for the other three.
      case ",${METAADAMW_EVIDENCE_VARIANTS:-$name}," in *",$name,"*) ;; *) continue ;; esac
      case "$v" in both:*) variants+=(--variant-both "${v#both:}") ;; *) variants+=(--variant "$v") ;; esac
    done
    run_study "$task" "${variants[@]}"
  done
fi

# The report reads the committed copies (results/evidence/TASK/protocol.json), so a task
# whose logs are elsewhere (another machine, an earlier session) still counts.
done_dirs=()
for task in forecasting image sentiment lm translation; do
  grep -q '"complete": true' "$out/$task/protocol.json" 2> /dev/null && done_dirs+=("$out/$task")
done
if [ ${#done_dirs[@]} -gt 0 ]; then
  "$cli" report "${done_dirs[@]}" > "$out/report.md"
  "$cli" report --json "${done_dirs[@]}" > "$out/report.json"
  cat "$out/report.md"
fi

# RESULTS.md quotes the report between its markers: regenerated here, never typed.
results="$root/RESULTS.md"
if [ -f "$out/report.md" ] && grep -q '<!-- evidence-report:begin -->' "$results"; then
  awk -v report="$out/report.md" '
    /<!-- evidence-report:begin -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
    /<!-- evidence-report:end -->/ { skip = 0 }
    !skip { print }' "$results" > "$results.tmp" && mv "$results.tmp" "$results"
fi
