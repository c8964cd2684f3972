// The run log's codec table (docs/LOG_FORMAT.md): for each record a run reports, the
// folder of the log it goes to, and per field its dataset, element type and inner axes.
// The writer creates and appends from these tables; a new per-step value is a record
// field and one row here. Torch-free and HDF5-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/records.h"

namespace maw::logschema {

inline constexpr const char* kName = "metaadamw-runlog";
// 2: meta/grad_norm, rel_change, at_bound; the modulator_design attributes.
// 3: steps/grad_norm.
// 4: trajectory/ (every optimizer) and the trajectory_* attributes.
// 5: final/ (keep_final_parameters), interpolation/, landscape/anchor_*.
inline constexpr int kVersion = 5;

enum class Elem { i64, f64, f32, text };
// A dataset's axes past the first (the record's): their name in the `axes` attribute and
// their length, from the run's shape.
enum class Axis {
  group,
  feature,
  factor,
  layer,
  head,
  query_group,
  key_group,
  term,
  block,
  part,
  direction,
  coordinate,
  cell,
  parameter,
  point
};
struct Dims {
  int64_t groups = 0, features = 0, layers = 0, heads = 0, directions = 0, coordinates = 0,
          cells = 0, parameters = 0, points = 0;
};
int64_t length(Axis a, const Dims& d);
// A run's dimensions, from what it announced (the writer creates by them, replay reads).
Dims dims_of(const RunInfo& i);
const char* name(Axis a);

// One dataset: a record field.
template <class R>
struct Column {
  const char* name;
  Elem elem;
  std::vector<Axis> inner;
  int since = 1;            // the schema version that added it
  size_t text_len = 0;      // text: fixed length in bytes (SWMR appends no variable-length data)
  uint64_t chunk_rows = 0;  // rows per chunk at most; 0: the table's
  // The field of `r` as one row's bytes: elements of `elem`, as many as the inner shape.
  void (*encode)(const R& r, std::string& row) = nullptr;
  // Numeric: one row of n values back into the field (NaN-filled where the log lacks it).
  void (*decode)(R& r, const double* v, size_t n) = nullptr;
  // Text: back into the field; false when it names nothing known (an unknown event kind).
  bool (*decode_text)(R& r, const std::string& s) = nullptr;
  const char* doc = "";  // its meaning, for docs/LOG_FORMAT.md
};

// One record type's folder.
template <class R>
struct Table {
  const char* folder;    // "steps": datasets /steps/<column>
  const char* row_axis;  // "step": the first axis's name
  uint64_t chunk_rows;
  std::vector<Column<R>> columns;
  // "snapshot,group,factor": the row axis, then the column's inner axes.
  std::string axes(const Column<R>& c) const {
    std::string a = row_axis;
    for (Axis x : c.inner) a += std::string(",") + name(x);
    return a;
  }
};

const Table<StepRecord>& steps();
// The fixed columns; each declared extra (RunInfo::eval_extras) adds evals/extra/<name>
// (float64, NaN when an evaluation lacks it).
const Table<EvalRecord>& evals();
const Table<RunEvent>& events();
// MetaAdamW only: snapshots, the snapshots that carry attention maps, meta-updates.
const Table<Snapshot>& snapshots();
const Table<Snapshot>& attention();
const Table<MetaUpdateRecord>& meta();
// Every optimizer, when the run tracks its trajectory (RunInfo::trajectory_directions).
const Table<TrajectoryRecord>& trajectory();
// With trajectory_full_every > 0: the points that carry θ_t − θ_0 at the sampled coordinates.
const Table<TrajectoryRecord>& trajectory_full();
// With landscape_grid > 0: the end-of-run landscape (one row); a probe replaces it.
const Table<LandscapeRecord>& landscape();
// With keep_final_parameters: the parameters the run ends with (one row).
const Table<ParametersRecord>& final_parameters();
// Added to a finished log by an interpolation probe (one row).
const Table<InterpolationRecord>& interpolation();

// docs/LOG_FORMAT.md's table of the appended datasets, made from the tables above (a test
// holds the document to it).
std::string datasets_markdown();

// Text as a fixed-length field: cut to `n` bytes at a UTF-8 boundary, NUL-padded.
std::string fixed_text(const std::string& s, size_t n);

}  // namespace maw::logschema
