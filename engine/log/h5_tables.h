// The HDF5 pieces the run log is made of (docs/LOG_FORMAT.md), shared by the writer (a run
// as it trains) and the amendments (a probe's result added to a finished log): fixed-length
// string attributes, compact groups, extendible series, and the codec's tables
// (api/log_schema.h) as folders of series. Engine-internal; callers hold
// runlog::hdf5_mutex().
#pragma once

#include <H5Cpp.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/log_schema.h"

namespace maw::runlog {

H5::StrType fixed_string(size_t n);
// Every string is fixed-length: variable-length data lives in HDF5's global heap, which
// has no checksums (a damaged file could mislead the reader); fixed-length attributes sit
// in the checksummed object header.
void attr(H5::H5Object& o, const std::string& name, const std::string& value);
// A fixed-length text attribute of `n` bytes, created or rewritten in place.
void fixed_attr(H5::H5Object& o, const std::string& name, const std::string& value, size_t n,
                bool create);
template <class T>
void attr(H5::H5Object& o, const std::string& name, T value, const H5::PredType& type,
          bool create = true) {
  H5::Attribute a =
      create ? o.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)) : o.openAttribute(name);
  a.write(type, &value);
}
// A numeric attribute set whether or not it exists yet.
template <class T>
void set_attr(H5::H5Object& o, const std::string& name, T value, const H5::PredType& type) {
  attr(o, name, value, type, o.attrExists(name) ? false : true);
}
void string_list(H5::Group& g, const std::string& name, const std::vector<std::string>& items);
// Links and attributes stay compact (in the checksummed object header), never in a
// fractal heap, whose blocks HDF5 does not checksum by default.
inline constexpr unsigned kCompact = 128;
H5::Group make_group(H5::H5Location& parent, const std::string& name);

// An extendible dataset [n, inner...] of one type, appended along the first axis.
class Series {
 public:
  Series() = default;
  Series(H5::Group& g, const std::string& name, const H5::DataType& type,
         std::vector<hsize_t> inner, hsize_t max_chunk_rows, const std::string& axes);
  // H5Fstart_swmr_write must not meet open datasets (HDF5 1.10 fails to re-register
  // their ids): close before, reopen after.
  void close() { ds_.close(); }
  void reopen(H5::H5File& file) { ds_ = file.openDataSet(path_); }
  const std::string& path() const { return path_; }
  hsize_t row_bytes() const { return row_bytes_; }
  void append(const void* data);

 private:
  std::string path_;
  H5::DataSet ds_;
  H5::DataType type_;
  std::vector<hsize_t> inner_;
  hsize_t row_bytes_ = 0;
  hsize_t n_ = 0;
};

// The codec's tables of one file as series, by "folder/column".
class Tables {
 public:
  // A table's folder and one extendible dataset per column.
  template <class R>
  H5::Group create(H5::H5Location& parent, const logschema::Table<R>& t,
                   const logschema::Dims& dims) {
    auto g = make_group(parent, t.folder);
    for (const auto& c : t.columns) {
      std::vector<hsize_t> inner;
      for (const auto a : c.inner)
        inner.push_back(static_cast<hsize_t>(logschema::length(a, dims)));
      series_[std::string(t.folder) + "/" + c.name] =
          Series(g, c.name, type_of(c.elem, c.text_len), inner,
                 c.chunk_rows ? c.chunk_rows : t.chunk_rows, t.axes(c));
    }
    return g;
  }
  // One record as one row of each of its table's datasets: all or none (a record whose
  // shape differs from the announced one is refused whole, the series keep one length).
  template <class R>
  void write(const logschema::Table<R>& t, const R& r) {
    rows_.resize(t.columns.size());
    std::vector<Series*> to(t.columns.size());
    for (size_t k = 0; k < t.columns.size(); ++k) {
      rows_[k].clear();
      t.columns[k].encode(r, rows_[k]);
      to[k] = &series_.at(std::string(t.folder) + "/" + t.columns[k].name);
      check_row(*to[k], rows_[k].size());
    }
    for (size_t k = 0; k < to.size(); ++k) to[k]->append(rows_[k].data());
  }
  bool has(const std::string& path) const { return series_.count(path) > 0; }
  Series& at(const std::string& path) { return series_.at(path); }
  Series& add(const std::string& path, Series s) { return series_[path] = std::move(s); }
  void close_all() {
    for (auto& [k, s] : series_) s.close();
  }
  void reopen_all(H5::H5File& file) {
    for (auto& [k, s] : series_) s.reopen(file);
  }
  void clear() { series_.clear(); }

 private:
  static H5::DataType type_of(logschema::Elem e, size_t text_len);
  static void check_row(const Series& s, size_t bytes);
  std::map<std::string, Series> series_;
  std::vector<std::string> rows_;
};

}  // namespace maw::runlog
