#include "api/log_schema.h"

#include <array>
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

template <auto M, size_t N>
void encode_text(const RecordOf<M>& r, std::string& row) {
  if constexpr (std::is_same_v<TypeOf<M>, RunEvent::Kind>)
    row += fixed_text(name_of(r.*M), N);
  else
    row += fixed_text(r.*M, N);
}

// A numeric column from a record field (the field's type decides the element type).
template <auto M>
Column<RecordOf<M>> col(const char* name, std::vector<Axis> inner = {}, int since = 1,
                        uint64_t chunk_rows = 0) {
  return {name, elem_of<TypeOf<M>>(), std::move(inner), since, 0, chunk_rows, &encode<M>};
}

// A fixed-length text column of N bytes.
template <auto M, size_t N>
Column<RecordOf<M>> text(const char* name) {
  return {name, Elem::text, {}, 1, N, 0, &encode_text<M, N>};
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
  }
  return 0;
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
  static const Table<R> t{"steps",
                          "step",
                          4096,
                          {col<&R::step>("step"), col<&R::epoch>("epoch"),
                           col<&R::wall_time_s>("wall_time_s"), col<&R::loss>("loss"),
                           col<&R::lr>("lr"), col<&R::forward_backward_ms>("forward_backward_ms"),
                           col<&R::optimizer_ms>("optimizer_ms"), col<&R::meta_ms>("meta_ms")}};
  return t;
}

const Table<EvalRecord>& evals() {
  using R = EvalRecord;
  static const Table<R> t{"evals",
                          "eval",
                          256,
                          {col<&R::step>("step"), col<&R::epoch>("epoch"), col<&R::loss>("loss"),
                           col<&R::metric>("metric"), col<&R::eval_ms>("eval_ms"),
                           col<&R::wall_time_s>("wall_time_s")}};
  return t;
}

const Table<RunEvent>& events() {
  using R = RunEvent;
  static const Table<R> t{
      "events",
      "event",
      256,
      {col<&R::step>("step"), text<&R::kind, 32>("kind"), text<&R::message, 256>("message")}};
  return t;
}

const Table<Snapshot>& snapshots() {
  using R = Snapshot;
  static const Table<R> t{
      "snapshots",
      "snapshot",
      1024,
      {col<&R::step>("step"), col<&R::feature_values>("features", {Axis::group, Axis::feature}),
       col<&R::factors>("factors", {Axis::group, Axis::factor}),
       col<&R::effective_lr>("effective_lr", {Axis::group}),
       col<&R::effective_wd>("effective_wd", {Axis::group})}};
  return t;
}

const Table<Snapshot>& attention() {
  using R = Snapshot;
  static const Table<R> t{
      "attention",
      "attention",
      1024,
      {col<&R::step>("step"),
       col<&R::attention>("probs", {Axis::layer, Axis::head, Axis::query_group, Axis::key_group}, 1,
                          64)}};
  return t;
}

const Table<MetaUpdateRecord>& meta() {
  using R = MetaUpdateRecord;
  static const Table<R> t{
      "meta",
      "meta",
      1024,
      {col<&R::step>("step"), col<&R::index>("index"), col<&R::l_grad>("l_grad"),
       col<&R::l_dec>("l_dec"), col<&R::l_gap>("l_gap"), col<&R::total>("total"),
       col<&R::meta_ms>("meta_ms"), col<&R::huw_s>("huw_s", {Axis::term}),
       col<&R::huw_weights>("huw_weights", {Axis::term}),
       col<&R::grad_norm>("grad_norm", {Axis::block}, 2),
       col<&R::rel_change>("rel_change", {Axis::part}, 2),
       col<&R::at_bound>("at_bound", {Axis::factor}, 2)}};
  return t;
}

}  // namespace maw::logschema
