#include "api/log_schema.h"

#include <array>
#include <cctype>
#include <cmath>
#include <iterator>
#include <type_traits>

namespace maw::logschema {
namespace {

template <class M>
struct Member;
template <class R, class T>
struct Member<T R::*> {
  using record = R;
  using type = T;
};
template <auto M>
using RecordOf = typename Member<decltype(M)>::record;
template <auto M>
using TypeOf = typename Member<decltype(M)>::type;

template <class T>
struct IsDoubleArray : std::false_type {};
template <size_t N>
struct IsDoubleArray<std::array<double, N>> : std::true_type {};

template <class T>
constexpr Elem elem_of() {
  if constexpr (std::is_same_v<T, int64_t>) return Elem::i64;
  if constexpr (std::is_same_v<T, double> || IsDoubleArray<T>::value) return Elem::f64;
  if constexpr (std::is_same_v<T, std::vector<float>>) return Elem::f32;
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, RunEvent::Kind>)
    return Elem::text;
}

template <auto M>
void encode(const RecordOf<M>& r, std::string& row) {
  using T = TypeOf<M>;
  const T& v = r.*M;
  if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
                IsDoubleArray<T>::value) {
    row.append(reinterpret_cast<const char*>(&v), sizeof v);
  } else {
    static_assert(std::is_same_v<T, std::vector<float>>, "a numeric field of the log");
    row.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
}

template <auto M>
void decode(RecordOf<M>& r, const double* v, size_t n) {
  using T = TypeOf<M>;
  T& f = r.*M;
  if constexpr (std::is_same_v<T, int64_t>) {
    // A damaged file's value outside int64 reads as 0 (a cast of it would be undefined).
    f = n > 0 && std::isfinite(v[0]) && std::abs(v[0]) < 9.2e18 ? static_cast<int64_t>(v[0]) : 0;
  } else if constexpr (std::is_same_v<T, double>) {
    f = n > 0 ? v[0] : std::nan("");
  } else if constexpr (IsDoubleArray<T>::value) {
    for (size_t j = 0; j < f.size(); ++j) f[j] = j < n ? v[j] : std::nan("");
  } else {
    f.assign(v, v + n);  // float32 values, exact as double
  }
}

template <auto M>
bool decode_text(RecordOf<M>& r, const std::string& s) {
  if constexpr (std::is_same_v<TypeOf<M>, RunEvent::Kind>) {
    const auto k = enum_from<RunEvent::Kind>(s);
    if (k) r.*M = *k;
    return k.has_value();
  } else {
    r.*M = s;
    return true;
  }
}

template <auto M, size_t N>
void encode_text(const RecordOf<M>& r, std::string& row) {
  if constexpr (std::is_same_v<TypeOf<M>, RunEvent::Kind>)
    row += fixed_text(name_of(r.*M), N);
  else
    row += fixed_text(r.*M, N);
}

// A numeric column from a record field (the field's type decides the element type).
template <auto M>
Column<RecordOf<M>> col(const char* name, const char* doc, std::vector<Axis> inner = {},
                        int since = 1, uint64_t chunk_rows = 0) {
  return {name,       elem_of<TypeOf<M>>(), std::move(inner), since,   0,
          chunk_rows, &encode<M>,           &decode<M>,       nullptr, doc};
}

// A fixed-length text column of N bytes.
template <auto M, size_t N>
Column<RecordOf<M>> text(const char* name, const char* doc, int since = 1) {
  return {name, Elem::text, {}, since, N, 0, &encode_text<M, N>, nullptr, &decode_text<M>, doc};
}

}  // namespace

int64_t length(Axis a, const Dims& d) {
  switch (a) {
    case Axis::group:
    case Axis::query_group:
    case Axis::key_group: return d.groups;
    case Axis::feature: return d.features;
    case Axis::factor: return factor::count;
    case Axis::layer: return d.layers;
    case Axis::head: return d.heads;
    case Axis::term: return static_cast<int64_t>(std::size(kMetaTerms));
    case Axis::block: return static_cast<int64_t>(std::size(kMetaGradBlocks));
    case Axis::part: return static_cast<int64_t>(std::size(kMetaChangeParts));
    case Axis::direction: return d.directions;
    case Axis::coordinate: return d.coordinates;
    case Axis::cell: return d.cells;
    case Axis::parameter: return d.parameters;
    case Axis::point: return d.points;
  }
  return 0;
}

Dims dims_of(const RunInfo& i) {
  return {static_cast<int64_t>(i.group_names.size()),
          static_cast<int64_t>(i.feature_names.size()),
          i.modulator_layers,
          i.modulator_heads,
          i.trajectory_directions,
          i.trajectory_full_coordinates,
          i.landscape_grid * i.landscape_grid,
          i.final_parameters ? i.num_parameters + i.num_buffer_values : 0,
          i.interpolation_points};
}

const char* name(Axis a) {
  switch (a) {
    case Axis::group: return "group";
    case Axis::feature: return "feature";
    case Axis::factor: return "factor";
    case Axis::layer: return "layer";
    case Axis::head: return "head";
    case Axis::query_group: return "query_group";
    case Axis::key_group: return "key_group";
    case Axis::term: return "term";
    case Axis::block: return "block";
    case Axis::part: return "part";
    case Axis::direction: return "direction";
    case Axis::coordinate: return "coordinate";
    case Axis::cell: return "cell";
    case Axis::parameter: return "parameter";
    case Axis::point: return "point";
  }
  return "?";
}

std::string fixed_text(const std::string& s, size_t n) {
  size_t len = std::min(s.size(), n);
  while (len > 0 && len < s.size() && (static_cast<unsigned char>(s[len]) & 0xC0) == 0x80) --len;
  std::string b(n, '\0');
  b.replace(0, len, s, 0, len);
  return b;
}

const Table<StepRecord>& steps() {
  using R = StepRecord;
  static const Table<R> t{
      "steps",
      "step",
      4096,
      {col<&R::step>("step", "the number of optimizer steps done (1-based)"),
       col<&R::epoch>("epoch", "the epoch the step's batch came from"),
       col<&R::wall_time_s>("wall_time_s", "seconds since the run started"),
       col<&R::loss>("loss", "training minibatch loss"),
       col<&R::lr>("lr", "the step's η_t (lr × the lr_schedule's factor)"),
       col<&R::forward_backward_ms>("forward_backward_ms", "forward and backward pass, ms"),
       col<&R::optimizer_ms>("optimizer_ms", "the optimizer's step without meta-updates, ms"),
       col<&R::meta_ms>("meta_ms", "the meta-update at this step, ms (0: none)"),
       col<&R::grad_norm>("grad_norm", "‖∇L‖₂ of the step's minibatch loss over all parameters", {},
                          3),
       col<&R::comm_ms>("comm_ms",
                        "data-parallel: rank 0's all-reduce of the gradients not hidden behind "
                        "backward (the wait after it), ms (0 alone)",
                        {}, 5),
       col<&R::slowest_rank_ms>("slowest_rank_ms",
                                "data-parallel: the slowest rank's forward and backward pass, ms "
                                "(0 alone)",
                                {}, 5)}};
  return t;
}

const Table<EvalRecord>& evals() {
  using R = EvalRecord;
  static const Table<R> t{
      "evals",
      "eval",
      256,
      {col<&R::step>("step", "the step evaluated after"), col<&R::epoch>("epoch", "its epoch"),
       col<&R::loss>("loss", "loss on the evaluation split"),
       col<&R::metric>("metric", "the task's metric (metric_name) on it"),
       col<&R::eval_ms>("eval_ms", "the evaluation's time, ms"),
       col<&R::wall_time_s>("wall_time_s", "seconds since the run started, when it finished")}};
  return t;
}

const Table<RunEvent>& events() {
  using R = RunEvent;
  static const Table<R> t{
      "events",
      "event",
      256,
      {col<&R::step>("step", "the step it happened at (-1: not tied to a step)"),
       text<&R::kind, 32>("kind",
                          "RunEvent::Kind's name: started, paused, resumed, stopped, "
                          "diverged, early_stopped, completed, backpressure"),
       text<&R::message, 256>("message", "why, in one line (may be empty)")}};
  return t;
}

const Table<Snapshot>& snapshots() {
  using R = Snapshot;
  static const Table<R> t{"snapshots",
                          "snapshot",
                          1024,
                          {col<&R::step>("step", "every snapshot_every steps"),
                           col<&R::feature_values>("features", "what the modulator read, per group",
                                                   {Axis::group, Axis::feature}),
                           col<&R::factors>("factors", "α, β, λ1, λ2 per group (factor::Index)",
                                            {Axis::group, Axis::factor}),
                           col<&R::effective_lr>("effective_lr", "η·α per group", {Axis::group}),
                           col<&R::effective_wd>("effective_wd", "λ·β per group", {Axis::group})}};
  return t;
}

const Table<Snapshot>& attention() {
  using R = Snapshot;
  static const Table<R> t{
      "attention",
      "attention",
      1024,
      {col<&R::step>("step", "the snapshot steps that are multiples of attention_every"),
       col<&R::attention>("probs", "the modulator's attention per layer and head (rows: queries)",
                          {Axis::layer, Axis::head, Axis::query_group, Axis::key_group}, 1, 64)}};
  return t;
}

const Table<MetaUpdateRecord>& meta() {
  using R = MetaUpdateRecord;
  static const Table<R> t{
      "meta",
      "meta",
      1024,
      {col<&R::step>("step", "the training step it ran at"),
       col<&R::index>("index", "1-based count of meta-updates"),
       col<&R::l_grad>("l_grad", "L_grad (NaN: not in the objective)"),
       col<&R::l_dec>("l_dec", "L_dec (NaN: not in the objective)"),
       col<&R::l_gap>("l_gap", "L_gap (NaN: not in the objective)"),
       col<&R::total>("total", "the meta loss, regularizers included"),
       col<&R::meta_ms>("meta_ms", "the meta-update's time, ms"),
       col<&R::huw_s>("huw_s", "HUW log-variances s of (l_grad, l_dec, l_gap)", {Axis::term}),
       col<&R::huw_weights>("huw_weights", "the terms' effective weights", {Axis::term}),
       col<&R::grad_norm>("grad_norm",
                          "L2 norm of the meta-gradient per block of meta-parameters "
                          "(kMetaGradBlocks), before the meta-optimizer's step; NaN: no such "
                          "block",
                          {Axis::block}, 2),
       col<&R::rel_change>("rel_change",
                           "‖Δθ‖ / ‖θ before‖ of the modulator's parts (kMetaChangeParts); "
                           "NaN: the part was 0 before",
                           {Axis::part}, 2),
       col<&R::at_bound>("at_bound",
                         "fraction of the groups' α, β, λ1, λ2 within 1e-3 of a bound of "
                         "their range: 1 = every group saturated",
                         {Axis::factor}, 2)}};
  return t;
}

namespace {

template <class R>
void markdown_rows(const Table<R>& t, const char* when, std::string& out) {
  static const char* kType[] = {"int64", "float64", "float32", "string"};
  for (const auto& c : t.columns) {
    // The row count's letter: T steps, E evaluations, V events, S snapshots, A attention
    // maps, M meta-updates.
    const std::string folder = t.folder;
    std::string shape = folder == "steps" ? "[T"
                        : folder == "events"
                            ? "[V"
                            : "[" + std::string(1, static_cast<char>(std::toupper(
                                                       static_cast<unsigned char>(t.row_axis[0]))));
    for (const auto a : c.inner) {
      switch (a) {
        case Axis::group:
        case Axis::query_group:
        case Axis::key_group: shape += ", G"; break;
        case Axis::feature: shape += ", F"; break;
        case Axis::layer: shape += ", L"; break;
        case Axis::head: shape += ", H"; break;
        case Axis::direction: shape += ", K"; break;
        case Axis::coordinate: shape += ", M"; break;
        case Axis::cell: shape += ", N²"; break;
        default: shape += ", " + std::to_string(length(a, Dims{}));
      }
    }
    shape += "]";
    std::string type = kType[static_cast<int>(c.elem)];
    if (c.elem == Elem::text) type += "[" + std::to_string(c.text_len) + "]";
    out += "| `/" + std::string(t.folder) + "/" + c.name + "` | " + shape + " | " + type + " | " +
           t.axes(c) + " | " + (c.since > 1 ? std::to_string(c.since) : "1") + " | " + when +
           c.doc + " |\n";
  }
}

}  // namespace

const Table<TrajectoryRecord>& trajectory() {
  using R = TrajectoryRecord;
  static const Table<R> t{
      "trajectory",
      "point",
      1024,
      {col<&R::step>("step", "the first step, then every snapshot_every steps", {}, 4),
       col<&R::coords>("coords",
                       "⟨θ_t − θ_0, d_k⟩ / ‖d_k‖² on the run's K filter-normalized random "
                       "directions (the seed's: one plane for every optimizer of a seed)",
                       {Axis::direction}, 4),
       col<&R::distance>("distance", "‖θ_t − θ_0‖₂ over every parameter", {}, 4),
       col<&R::group_distance>("group_distance", "‖θ_t − θ_0‖₂ per group", {Axis::group}, 4)}};
  return t;
}

const Table<TrajectoryRecord>& trajectory_full() {
  using R = TrajectoryRecord;
  static const Table<R> t{
      "trajectory_full",
      "record",
      64,
      {col<&R::step>("step", "step 0, then every trajectory_full_every steps", {}, 4),
       col<&R::full>("delta",
                     "θ_t − θ_0 at M sampled coordinates (every ⌈P / M⌉-th parameter in model "
                     "order; the same for every run of a model)",
                     {Axis::coordinate}, 4, 16)}};
  return t;
}

const Table<LandscapeRecord>& landscape() {
  using R = LandscapeRecord;
  static const Table<R> t{
      "landscape",
      "landscape",
      4,
      {col<&R::step>("step", "the step it was computed at (the run's last)", {}, 4),
       col<&R::center_x>("center_x", "the end point on direction 1 (trajectory/coords)", {}, 4),
       col<&R::center_y>("center_y", "the end point on direction 2", {}, 4),
       col<&R::half_width>("half_width", "the grid's half-width, in units of the directions", {},
                           4),
       col<&R::examples>("examples", "the fixed evaluation batch's size", {}, 4),
       col<&R::loss>("loss",
                     "the loss at θ_T + (x − anchor_x)·d₁ + (y − anchor_y)·d₂ on an N × N grid "
                     "around the centre, row-major, rows y from low to high",
                     {Axis::cell}, 4),
       col<&R::anchor_x>("anchor_x", "θ_T on direction 1 (the centre before schema 5)", {}, 5),
       col<&R::anchor_y>("anchor_y", "θ_T on direction 2", {}, 5)}};
  return t;
}

const Table<ParametersRecord>& final_parameters() {
  using R = ParametersRecord;
  static const Table<R> t{
      "final",
      "record",
      1,
      {col<&R::step>("step", "the run's last step", {}, 5),
       col<&R::values>("parameters",
                       "the model the run ends with: its P parameters in model order, then its "
                       "buffers (BatchNorm's running statistics), each flattened row-major "
                       "(early stopping's best when it restored one)",
                       {Axis::parameter}, 5)}};
  return t;
}

const Table<InterpolationRecord>& interpolation() {
  using R = InterpolationRecord;
  static const Table<R> t{
      "interpolation",
      "record",
      1,
      {col<&R::step>("step", "this run's last step", {}, 5),
       text<&R::other, 256>("other", "the other run's log file and label", 5),
       col<&R::alpha>("alpha", "a: 0 at this run's final parameters, 1 at the other's",
                      {Axis::point}, 5),
       col<&R::loss>("loss", "the loss at (1 − a)·θ_this + a·θ_other on the landscape's batch",
                     {Axis::point}, 5),
       col<&R::examples>("examples", "the fixed evaluation batch's size", {}, 5)}};
  return t;
}

std::string datasets_markdown() {
  std::string out =
      "| dataset | shape | type | axes | since | meaning |\n"
      "|---|---|---|---|---|---|\n";
  markdown_rows(steps(), "", out);
  markdown_rows(evals(), "", out);
  out +=
      "| `/evals/extra/<name>` | [E] | float64 | eval | 1 | each declared extra metric "
      "(translation: bleu); NaN when an evaluation lacks it |\n";
  markdown_rows(events(), "", out);
  markdown_rows(snapshots(), "MetaAdamW: ", out);
  markdown_rows(attention(), "MetaAdamW: ", out);
  markdown_rows(meta(), "MetaAdamW: ", out);
  markdown_rows(trajectory(), "With trajectory_directions > 0: ", out);
  markdown_rows(trajectory_full(), "With trajectory_full_every > 0: ", out);
  markdown_rows(landscape(), "With landscape_grid > 0, or after a probe: ", out);
  markdown_rows(final_parameters(), "With keep_final_parameters: ", out);
  markdown_rows(interpolation(), "After an interpolation probe: ", out);
  return out;
}

}  // namespace maw::logschema
