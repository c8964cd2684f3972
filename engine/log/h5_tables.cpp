#include "log/h5_tables.h"

#include <hdf5.h>

namespace maw::runlog {
namespace {
constexpr hsize_t kChunkBytes = 1 << 20;  // a chunk holds at most ~1 MiB (the default cache)
}

H5::StrType fixed_string(size_t n) {
  H5::StrType t(H5::PredType::C_S1, n);
  t.setStrpad(H5T_STR_NULLPAD);
  return t;
}

void attr(H5::H5Object& o, const std::string& name, const std::string& value) {
  const auto type = fixed_string(std::max<size_t>(value.size(), 1));
  o.createAttribute(name, type, H5::DataSpace(H5S_SCALAR))
      .write(type, logschema::fixed_text(value, type.getSize()).data());
}

void fixed_attr(H5::H5Object& o, const std::string& name, const std::string& value, size_t n,
                bool create) {
  const auto type = fixed_string(n);
  H5::Attribute a =
      create ? o.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)) : o.openAttribute(name);
  a.write(type, logschema::fixed_text(value, n).data());
}

void string_list(H5::Group& g, const std::string& name, const std::vector<std::string>& items) {
  hsize_t n = items.size();
  size_t len = 1;
  for (const auto& s : items) len = std::max(len, s.size());
  const auto type = fixed_string(len);
  std::string buf;
  for (const auto& s : items) buf += logschema::fixed_text(s, len);
  auto ds = g.createDataSet(name, type, H5::DataSpace(1, &n));
  if (n > 0) ds.write(buf.data(), type);
}

H5::Group make_group(H5::H5Location& parent, const std::string& name) {
  const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_link_phase_change(gcpl, kCompact, kCompact - 16);
  H5Pset_attr_phase_change(gcpl, kCompact, kCompact - 16);
  const hid_t id = H5Gcreate2(parent.getId(), name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  if (id < 0) throw H5::GroupIException("make_group", "cannot create group '" + name + "'");
  H5::Group g(id);  // takes its own reference to the id
  H5Gclose(id);
  return g;
}

Series::Series(H5::Group& g, const std::string& name, const H5::DataType& type,
               std::vector<hsize_t> inner, hsize_t max_chunk_rows, const std::string& axes)
    : path_(g.getObjName() + "/" + name), type_(type), inner_(std::move(inner)) {
  row_bytes_ = type.getSize();
  for (hsize_t d : inner_) row_bytes_ *= d;
  const hsize_t rows =
      std::clamp<hsize_t>(kChunkBytes / std::max<hsize_t>(row_bytes_, 1), 1, max_chunk_rows);
  std::vector<hsize_t> dims = {0}, maxdims = {H5S_UNLIMITED}, chunk = {rows};
  for (hsize_t d : inner_) {
    dims.push_back(d);
    maxdims.push_back(d);
    chunk.push_back(std::max<hsize_t>(d, 1));
  }
  H5::DataSpace space(static_cast<int>(dims.size()), dims.data(), maxdims.data());
  H5::DSetCreatPropList p;
  p.setChunk(static_cast<int>(chunk.size()), chunk.data());
  p.setShuffle();
  p.setDeflate(4);
  ds_ = g.createDataSet(name, type, space, p);
  const H5::StrType t = fixed_string(std::max<size_t>(axes.size(), 1));
  ds_.createAttribute("axes", t, H5::DataSpace(H5S_SCALAR))
      .write(t, logschema::fixed_text(axes, t.getSize()).data());
}

void Series::append(const void* data) {
  std::vector<hsize_t> size = {n_ + 1}, off = {n_}, count = {1};
  for (hsize_t d : inner_) {
    size.push_back(d);
    off.push_back(0);
    count.push_back(d);
  }
  ds_.extend(size.data());
  H5::DataSpace fs = ds_.getSpace();
  fs.selectHyperslab(H5S_SELECT_SET, count.data(), off.data());
  H5::DataSpace ms(static_cast<int>(count.size()), count.data());
  ds_.write(data, type_, ms, fs);
  ++n_;
}

H5::DataType Tables::type_of(logschema::Elem e, size_t text_len) {
  switch (e) {
    case logschema::Elem::i64: return H5::DataType(H5::PredType::NATIVE_INT64);
    case logschema::Elem::f64: return H5::DataType(H5::PredType::NATIVE_DOUBLE);
    case logschema::Elem::f32: return H5::DataType(H5::PredType::NATIVE_FLOAT);
    case logschema::Elem::text: break;
  }
  return H5::DataType(fixed_string(text_len));
}

void Tables::check_row(const Series& s, size_t bytes) {
  if (bytes != s.row_bytes())
    throw H5::DataSetIException("RunLog", "a row of " + std::to_string(bytes) + " bytes for '" +
                                              s.path() + "', whose rows the run announced as " +
                                              std::to_string(s.row_bytes()) + " bytes");
}

}  // namespace maw::runlog
