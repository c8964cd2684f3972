// RunLogReader over HDF5's C API: every failure becomes a DataError that names the file
// and the reason; nothing in a damaged or foreign file may crash the reader.
#include "api/run_log_reader.h"

#include <hdf5.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "api/errors.h"
#include "api/file_checks.h"
#include "api/log_schema.h"
#include "log/hdf5_lock.h"

namespace maw {
namespace runlog {

std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace runlog

namespace {

constexpr const char* kSchemaName = logschema::kName;
static_assert(RunLogReader::kSchemaVersion == logschema::kVersion,
              "the reader reads the version the codec writes");
constexpr int kMaxDepth = 4;                   // groups below the root we look into
constexpr int kMaxRank = 6;                    // our datasets have rank ≤ 5
constexpr uint64_t kMaxElements = 1ull << 31;  // one read: 16 GiB of doubles at most
constexpr size_t kMaxStringLen = 1 << 20;

// The most specific message on HDF5's error stack (it says what HDF5 found wrong).
std::string hdf5_reason() {
  std::vector<std::string> msgs;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        if (e && e->desc && *e->desc)
          static_cast<std::vector<std::string>*>(data)->push_back(e->desc);
        return 0;
      },
      &msgs);
  H5Eclear2(H5E_DEFAULT);
  return msgs.empty() ? "unknown HDF5 error" : msgs.front();
}

// Closes an HDF5 id of any kind at scope exit.
struct Id {
  hid_t id = -1;
  explicit Id(hid_t i = -1) : id(i) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id >= 0) {
      const H5I_type_t t = H5Iget_type(id);
      if (t == H5I_DATASET)
        H5Dclose(id);
      else if (t == H5I_GROUP)
        H5Gclose(id);
      else if (t == H5I_DATATYPE)
        H5Tclose(id);
      else if (t == H5I_DATASPACE)
        H5Sclose(id);
      else if (t == H5I_ATTR)
        H5Aclose(id);
      else if (t == H5I_GENPROP_LST)
        H5Pclose(id);
      else if (t == H5I_FILE)
        H5Fclose(id);
    }
  }
  operator hid_t() const { return id; }
  bool ok() const { return id >= 0; }
};

// A fixed-length string attribute of type `type` read through `read`. Run logs hold no
// variable-length data (it lives in the global heap, which has no checksums): a
// variable-length string reads as "".
std::string read_string(hid_t type, const std::function<herr_t(hid_t, void*)>& read) {
  if (H5Tis_variable_str(type) != 0) return {};
  const size_t n = H5Tget_size(type);
  if (n == 0 || n > kMaxStringLen) return {};
  Id mem(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem, n);
  H5Tset_strpad(mem, H5T_STR_NULLPAD);
  std::vector<char> buf(n + 1, '\0');
  if (read(mem, buf.data()) < 0) return {};
  return std::string(buf.data());
}

// H5Oget_info with the fields argument: "2" in HDF5 1.10 (Debian 12), "3" from 1.12 on
// (Debian 13: 1.14), where H5O_info_t is the new struct and "2" takes the old one.
herr_t object_info(hid_t obj, H5O_info_t* oi, unsigned fields) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Oget_info3(obj, oi, fields);
#else
  return H5Oget_info2(obj, oi, fields);
#endif
}
herr_t object_info_by_name(hid_t loc, const char* name, H5O_info_t* oi, unsigned fields,
                           hid_t lapl) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Oget_info_by_name3(loc, name, oi, fields, lapl);
#else
  return H5Oget_info_by_name2(loc, name, oi, fields, lapl);
#endif
}

// Whether an object keeps its links and attributes in its (checksummed) object header,
// as the writer makes them; dense storage uses fractal heaps, which have no checksums.
bool compact(hid_t obj) {
  H5O_info_t oi;
  if (object_info(obj, &oi, H5O_INFO_NUM_ATTRS) < 0) return false;
  if (H5Iget_type(obj) == H5I_GROUP) {
    H5G_info_t gi;
    if (H5Gget_info(obj, &gi) < 0 || gi.storage_type == H5G_STORAGE_TYPE_DENSE) return false;
  }
  const hid_t plist =
      H5Iget_type(obj) == H5I_GROUP ? H5Gget_create_plist(obj) : H5Dget_create_plist(obj);
  if (plist < 0) return false;
  unsigned max_compact = 8, min_dense = 6;
  const herr_t ok = H5Pget_attr_phase_change(plist, &max_compact, &min_dense);
  H5Pclose(plist);
  return ok >= 0 && oi.num_attrs <= max_compact;
}

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

struct RunLogReader::Impl {
  std::string path;
  Id file;
  bool swmr = false;
  int version = 0;
  std::map<std::string, std::string> attrs;
  struct Entry {
    Id ds;
    LogSeries info;
    uint64_t element_bytes = 8;
    bool filtered = false;  // compressed: its data may be larger than the file
  };
  std::map<std::string, std::unique_ptr<Entry>> entries;

  [[noreturn]] void fail(const std::string& what) const {
    throw DataError("run log '" + path + "': " + what);
  }

  void read_attributes() {
    attrs.clear();
    Id root(H5Gopen2(file, "/", H5P_DEFAULT));
    if (!root.ok()) fail("damaged: cannot open the root group (" + hdf5_reason() + ")");
    if (!compact(root))
      fail(
          "an HDF5 file, but not a MetaAdamW run log (its root group is not laid out as "
          "metaadamw writes it)");
    H5O_info_t oi;
    if (object_info(root, &oi, H5O_INFO_NUM_ATTRS) < 0)
      fail("damaged: cannot read the root group (" + hdf5_reason() + ")");
    const hsize_t n = std::min<hsize_t>(oi.num_attrs, 256);
    for (hsize_t k = 0; k < n; ++k) {
      Id a(H5Aopen_by_idx(root, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, k, H5P_DEFAULT, H5P_DEFAULT));
      if (!a.ok())
        a.id = H5Aopen_by_idx(root, ".", H5_INDEX_NAME, H5_ITER_INC, k, H5P_DEFAULT, H5P_DEFAULT);
      if (!a.ok()) continue;
      char name[256] = {0};
      if (H5Aget_name(a, sizeof name - 1, name) < 0) continue;
      Id space(H5Aget_space(a));
      if (!space.ok() || H5Sget_simple_extent_npoints(space) != 1) continue;
      Id type(H5Aget_type(a));
      if (!type.ok()) continue;
      const auto cls = H5Tget_class(type);
      const hid_t aid = a;
      if (cls == H5T_STRING) {
        attrs[name] =
            read_string(type, [aid](hid_t mem, void* buf) { return H5Aread(aid, mem, buf); });
      } else if (cls == H5T_INTEGER) {
        if (H5Tget_sign(type) == H5T_SGN_NONE) {
          unsigned long long v = 0;
          if (H5Aread(a, H5T_NATIVE_ULLONG, &v) >= 0) attrs[name] = std::to_string(v);
        } else {
          long long v = 0;
          if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) attrs[name] = std::to_string(v);
        }
      } else if (cls == H5T_FLOAT) {
        double v = 0;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0) attrs[name] = number_text(v);
      }
    }
    H5Eclear2(H5E_DEFAULT);
  }

  void update_shape(Entry& e) {
    Id space(H5Dget_space(e.ds));
    const int rank = space.ok() ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank < 0 || rank > kMaxRank) return;
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) return;
    e.info.shape.assign(dims.begin(), dims.end());
  }

  void add_dataset(hid_t parent, const std::string& name, const std::string& full) {
    if (entries.count(full)) return;
    Id ds(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
    if (!ds.ok() || !compact(ds)) return;
    Id type(H5Dget_type(ds));
    if (!type.ok()) return;
    LogSeries info;
    info.path = full;
    const auto cls = H5Tget_class(type);
    const size_t size = H5Tget_size(type);
    if (cls == H5T_INTEGER && size <= 8)
      info.type = "int64";
    else if (cls == H5T_FLOAT && size == 4)
      info.type = "float32";
    else if (cls == H5T_FLOAT && size == 8)
      info.type = "float64";
    else if (cls == H5T_STRING && H5Tis_variable_str(type) == 0)
      info.type = "string";
    else
      return;  // not one of ours: ignored
    if (H5Aexists(ds, "axes") > 0) {
      Id a(H5Aopen(ds, "axes", H5P_DEFAULT));
      Id at(a.ok() ? H5Aget_type(a) : -1);
      if (at.ok() && H5Tget_class(at) == H5T_STRING) {
        const hid_t aid = a;
        info.axes = read_string(at, [aid](hid_t mem, void* buf) { return H5Aread(aid, mem, buf); });
      }
    }
    auto e = std::make_unique<Entry>();
    e->element_bytes = std::max<uint64_t>(size, 1);
    {
      Id dcpl(H5Dget_create_plist(ds));
      e->filtered = !dcpl.ok() || H5Pget_nfilters(dcpl) != 0;
    }
    e->ds.id = ds.id;
    ds.id = -1;
    e->info = std::move(info);
    update_shape(*e);  // a scalar dataset has shape {} and reads as one row
    entries[full] = std::move(e);
  }

  void walk(hid_t group, const std::string& prefix, int depth) {
    H5G_info_t gi;
    if (H5Gget_info(group, &gi) < 0) return;
    const hsize_t n = std::min<hsize_t>(gi.nlinks, 4096);
    for (hsize_t k = 0; k < n; ++k) {
      char name[512] = {0};
      if (H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name - 1,
                             H5P_DEFAULT) < 0)
        continue;
      H5L_info_t li;
      if (H5Lget_info(group, name, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD) continue;
      H5O_info_t oi;
      if (object_info_by_name(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) continue;
      const std::string full = prefix.empty() ? name : prefix + "/" + name;
      if (oi.type == H5O_TYPE_DATASET) {
        add_dataset(group, name, full);
      } else if (oi.type == H5O_TYPE_GROUP && depth < kMaxDepth) {
        Id g(H5Gopen2(group, name, H5P_DEFAULT));
        if (g.ok() && compact(g)) walk(g, full, depth + 1);
      }
    }
    H5Eclear2(H5E_DEFAULT);
  }

  const Entry& entry(const std::string& p) const {
    auto it = entries.find(p);
    if (it == entries.end()) fail("no series '" + p + "'");
    return *it->second;
  }

  // A shape is only declared: a damaged or crafted file can claim 10^9 rows that are not
  // there, and HDF5 would fill them in one by one. The data of a series cannot be larger
  // than the file (uncompressed), or than what deflate's best ratio (~1:1032) makes of it,
  // plus a live writer's one growing chunk; beyond that the series is refused.
  void check_declared_size(const Entry& e) const {
    constexpr double kMaxRatio = 1100, kSlack = 64.0 * (1 << 20);
    struct stat st;
    const double file = ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0;
    double bytes = static_cast<double>(e.element_bytes);
    for (uint64_t d : e.info.shape) bytes *= static_cast<double>(d);
    const double limit = (e.filtered ? kMaxRatio : 1.0) * file + kSlack;
    if (bytes > limit) {
      std::string dims;
      for (uint64_t d : e.info.shape) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
      char sizes[96];
      std::snprintf(sizes, sizeof sizes, "%.3g GB), more than this %.3g MB file", bytes / 1e9,
                    file / 1e6);
      fail("series '" + e.info.path + "' declares " + dims + " elements (" + sizes +
           " can hold: damaged or not written by metaadamw");
    }
  }

  // The hyperslab of rows [first, first + count) and its element count.
  // The caller owns the returned dataspace id.
  std::pair<hid_t, uint64_t> select(const Entry& e, uint64_t first, uint64_t& count) const {
    const auto& shape = e.info.shape;
    const uint64_t n = shape.empty() ? 1 : shape[0];
    if (first > n) first = n;
    count = std::min<uint64_t>(count, n - first);
    uint64_t inner = 1;
    for (size_t d = 1; d < shape.size(); ++d) {
      if (shape[d] != 0 && inner > kMaxElements / shape[d])
        fail("series '" + e.info.path + "' is too large");
      inner *= shape[d];
    }
    if (inner != 0 && count > kMaxElements / inner)
      fail("reading " + std::to_string(count) + " rows of '" + e.info.path +
           "' at once is too large; read fewer rows");
    check_declared_size(e);
    Id space(H5Dget_space(e.ds));
    if (!space.ok()) fail("damaged series '" + e.info.path + "' (" + hdf5_reason() + ")");
    if (!shape.empty() && count > 0) {
      std::vector<hsize_t> off(shape.size(), 0), cnt(shape.begin(), shape.end());
      off[0] = first;
      cnt[0] = count;
      if (H5Sselect_hyperslab(space, H5S_SELECT_SET, off.data(), nullptr, cnt.data(), nullptr) < 0)
        fail("cannot select rows of '" + e.info.path + "' (" + hdf5_reason() + ")");
    }
    const hid_t out = space.id;
    space.id = -1;
    return {out, count * inner};
  }
};

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const auto k = text.find(sep, start);
    out.push_back(text.substr(start, k == std::string::npos ? std::string::npos : k - start));
    if (k == std::string::npos) break;
    start = k + 1;
  }
  return out;
}

RunLogReader::RunLogReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  std::lock_guard<std::mutex> lock(runlog::hdf5_mutex());
  auto& m = *impl_;
  m.path = path;
  const std::string problem = files::input_problem(path);
  if (!problem.empty()) m.fail(problem);
  struct stat st;
  ::stat(path.c_str(), &st);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // The signature and superblock version, read here before HDF5 parses anything: run
  // logs use superblock v3, whose metadata is all checksummed. Older layouts (v0/v1,
  // no checksums) are foreign files, refused before HDF5 walks structures that could be
  // damaged without anyone noticing.
  unsigned char head[48] = {0};
  size_t got = 0;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    if (got < 9 || std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) != 0)
      m.fail("not an HDF5 file (no HDF5 signature; is it a run log?)");
  } else {
    m.fail(std::string("cannot read: ") + std::strerror(errno));
  }
  if (head[8] < 2)
    m.fail("an HDF5 file, but not a MetaAdamW run log (HDF5 superblock version " +
           std::to_string(head[8]) + "; run logs are written with version 3)");
  // A cleanly closed file (consistency flags 0) must reach its end-of-file address; SWMR
  // reading skips that check (a live writer may be ahead), so do it here.
  const unsigned offsets = head[9];
  if (offsets == 8 && got >= 12 + 3 * 8 && head[11] == 0) {
    uint64_t eof = 0;
    for (int b = 7; b >= 0; --b) eof = (eof << 8) | head[12 + 2 * 8 + b];
    if (static_cast<uint64_t>(st.st_size) < eof)
      m.fail("cannot be opened: damaged or truncated (the file has " + std::to_string(st.st_size) +
             " bytes; its superblock says " + std::to_string(eof) + ")");
  }
  // SWMR read first: it opens a file being written, one whose writer was killed, and a
  // finished one; files of the older format (foreign ones) open without it.
  // HDF5 retries a metadata read whose checksum fails (under SWMR the writer may be in the
  // middle of writing it) 100 times with growing sleeps by default: minutes on a damaged
  // file. A few tries cover a concurrent write; refresh() can be called again.
  Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_metadata_read_attempts(fapl, 4);
  m.file.id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
  if (m.file.ok()) {
    m.swmr = true;
  } else {
    H5Eclear2(H5E_DEFAULT);
    m.file.id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  }
  if (!m.file.ok()) {
    const std::string why = hdf5_reason();
    if (why.find("unable to lock") != std::string::npos ||
        why.find("already open") != std::string::npos)
      m.fail("another process is writing it without sharing (" + why +
             "); a run log being created becomes readable once its run starts");
    m.fail("cannot be opened: damaged or truncated (HDF5: " + why + ")");
  }
  m.read_attributes();
  const auto schema = m.attrs.find("schema");
  if (schema == m.attrs.end() || schema->second != kSchemaName)
    m.fail("an HDF5 file, but not a MetaAdamW run log (its root has no schema attribute '" +
           std::string(kSchemaName) + "')");
  const std::string v = m.attrs.count("schema_version") ? m.attrs["schema_version"] : "";
  char* end = nullptr;
  const long version = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || version < 1)
    m.fail("damaged: schema_version '" + v + "' is not a positive integer");
  if (version > kSchemaVersion)
    m.fail("written with run-log schema version " + v + "; this metaadamw reads up to version " +
           std::to_string(kSchemaVersion) + " — open it with a newer metaadamw");
  m.version = static_cast<int>(version);
  Id root(H5Gopen2(m.file, "/", H5P_DEFAULT));
  if (!root.ok()) m.fail("damaged: cannot open the root group (" + hdf5_reason() + ")");
  m.walk(root, "", 0);
}

RunLogReader::~RunLogReader() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(runlog::hdf5_mutex());
  impl_.reset();
}
RunLogReader::RunLogReader(RunLogReader&&) noexcept = default;
RunLogReader& RunLogReader::operator=(RunLogReader&&) noexcept = default;

const std::string& RunLogReader::path() const {
  return impl_->path;
}
int RunLogReader::schema_version() const {
  return impl_->version;
}
const std::map<std::string, std::string>& RunLogReader::attributes() const {
  return impl_->attrs;
}

std::string RunLogReader::attribute(const std::string& name, const std::string& fallback) const {
  auto it = impl_->attrs.find(name);
  return it == impl_->attrs.end() ? fallback : it->second;
}

std::vector<LogSeries> RunLogReader::series() const {
  std::vector<LogSeries> out;
  for (const auto& [p, e] : impl_->entries) out.push_back(e->info);
  return out;
}

bool RunLogReader::has(const std::string& path) const {
  return impl_->entries.count(path) > 0;
}

const LogSeries& RunLogReader::info(const std::string& path) const {
  return impl_->entry(path).info;
}

uint64_t RunLogReader::rows(const std::string& path) const {
  auto it = impl_->entries.find(path);
  if (it == impl_->entries.end()) return 0;
  const auto& s = it->second->info.shape;
  return s.empty() ? 1 : s[0];
}

std::vector<double> RunLogReader::read(const std::string& path, uint64_t first,
                                       uint64_t count) const {
  std::lock_guard<std::mutex> lock(runlog::hdf5_mutex());
  const auto& e = impl_->entry(path);
  if (e.info.type == "string") impl_->fail("series '" + path + "' holds strings, not numbers");
  const auto [space_id, n] = impl_->select(e, first, count);
  Id space(space_id);
  std::vector<double> out(n);
  if (n == 0) return out;
  const hsize_t mdim = n;
  Id mem(H5Screate_simple(1, &mdim, nullptr));
  if (H5Dread(e.ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, out.data()) < 0)
    impl_->fail("cannot read '" + path + "' rows " + std::to_string(first) + "–" +
                std::to_string(first + count) + ": damaged or truncated (HDF5: " + hdf5_reason() +
                ")");
  return out;
}

std::vector<std::string> RunLogReader::read_strings(const std::string& path, uint64_t first,
                                                    uint64_t count) const {
  std::lock_guard<std::mutex> lock(runlog::hdf5_mutex());
  const auto& e = impl_->entry(path);
  if (e.info.type != "string") impl_->fail("series '" + path + "' holds numbers, not strings");
  const auto [space_id, n] = impl_->select(e, first, count);
  Id space(space_id);
  std::vector<std::string> out;
  if (n == 0) return out;
  Id ftype(H5Dget_type(e.ds));
  const hsize_t mdim = n;
  Id mem(H5Screate_simple(1, &mdim, nullptr));
  auto failed = [&] {
    impl_->fail("cannot read strings of '" + path + "': damaged (HDF5: " + hdf5_reason() + ")");
  };
  {
    const size_t len = H5Tget_size(ftype);
    if (len == 0 || len > kMaxStringLen) failed();
    Id mtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(mtype, len);
    H5Tset_strpad(mtype, H5T_STR_NULLPAD);
    std::vector<char> buf(n * len);
    if (H5Dread(e.ds, mtype, mem, space, H5P_DEFAULT, buf.data()) < 0) failed();
    for (uint64_t k = 0; k < n; ++k) {
      const char* p = buf.data() + k * len;
      out.emplace_back(p, strnlen(p, len));
    }
  }
  return out;
}

bool RunLogReader::refresh() {
  std::lock_guard<std::mutex> lock(runlog::hdf5_mutex());
  auto& m = *impl_;
  // Datasets that did not exist at open (a reader that opened the file just before the
  // writer created them, in this process).
  const size_t known = m.entries.size();
  {
    Id root(H5Gopen2(m.file, "/", H5P_DEFAULT));
    if (root.ok()) m.walk(root, "", 0);
  }
  bool changed = m.entries.size() != known;
  for (auto& [p, e] : m.entries) {
    if (m.swmr) H5Drefresh(e->ds);
    const auto before = e->info.shape;
    m.update_shape(*e);
    changed = changed || e->info.shape != before;
  }
  Id root(H5Gopen2(m.file, "/", H5P_DEFAULT));
  if (root.ok() && m.swmr) H5Orefresh(root);
  const auto before = m.attrs;
  m.read_attributes();
  if (m.attrs.count("schema") == 0) m.attrs = before;  // a failed re-read keeps what we had
  H5Eclear2(H5E_DEFAULT);
  return changed || m.attrs != before;
}

std::string RunLogReader::status() const {
  return attribute("status", "unknown");
}

bool RunLogReader::writer_alive() const {
  if (status() != "running") return false;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  if (attribute("host") != host) return true;  // another machine: cannot tell, assume alive
  const std::string pid = attribute("writer_pid");
  if (pid.empty()) return true;
  const long p = std::strtol(pid.c_str(), nullptr, 10);
  if (p <= 0) return false;
  return ::kill(static_cast<pid_t>(p), 0) == 0 || errno == EPERM;
}

}  // namespace maw
