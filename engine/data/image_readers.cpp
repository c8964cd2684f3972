#include "data/image_readers.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "api/errors.h"

namespace maw::data {
namespace {

[[noreturn]] void bad(const std::string& path, int64_t pos, const std::string& what) {
  throw DataError(path + ": byte " + std::to_string(pos) + ": " + what);
}

// The whole file, gunzipped when it is gzip (zlib reads plain files unchanged).
std::vector<uint8_t> read_maybe_gz(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw DataError(path + ": cannot open");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f.get(), buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f.get(), &err);
      bad(path, static_cast<int64_t>(out.size()),
          std::string("corrupt compressed data (") + (msg ? msg : "zlib error") + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) |
         uint32_t(b[at + 3]);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  const auto bytes = read_maybe_gz(path);
  if (bytes.size() < 4)
    bad(path, static_cast<int64_t>(bytes.size()), "file too short for an IDX header");
  if (bytes[0] != 0 || bytes[1] != 0)
    bad(path, 0, "not an IDX file (magic must start with two zero bytes)");
  if (bytes[2] != 0x08)
    bad(path, 2, "IDX element type " + std::to_string(bytes[2]) + " is not unsigned byte (0x08)");
  const int ndim = bytes[3];
  if (ndim < 1 || ndim > 4) bad(path, 3, "IDX with " + std::to_string(ndim) + " dimensions");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (bytes.size() < header) bad(path, static_cast<int64_t>(bytes.size()), "truncated IDX header");
  IdxArray a;
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    const int64_t n = be32(bytes, 4 + 4 * static_cast<size_t>(d));
    a.dims.push_back(n);
    total *= n;
  }
  const int64_t have = static_cast<int64_t>(bytes.size() - header);
  if (have != total)
    bad(path, static_cast<int64_t>(header) + std::min(have, total),
        "IDX header announces " + std::to_string(total) + " values, the file holds " +
            std::to_string(have) + (have < total ? " (truncated)" : " (trailing bytes)"));
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

ImageSet read_idx_split(const std::string& images_path, const std::string& labels_path,
                        int classes) {
  const auto images = read_idx(images_path);
  const auto labels = read_idx(labels_path);
  if (images.dims.size() != 3) bad(images_path, 3, "expected images [N, H, W]");
  if (labels.dims.size() != 1) bad(labels_path, 3, "expected labels [N]");
  if (images.count() != labels.count())
    throw DataError(images_path + " holds " + std::to_string(images.count()) + " images but " +
                    labels_path + " holds " + std::to_string(labels.count()) + " labels");
  for (size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= classes)
      bad(labels_path, 8 + static_cast<int64_t>(i),
          "label " + std::to_string(labels.data[i]) + " is not below " + std::to_string(classes));
  ImageSet s;
  s.count = images.count();
  s.channels = 1;
  s.height = images.dims[1];
  s.width = images.dims[2];
  s.pixels = images.data;
  s.labels = labels.data;
  return s;
}

ImageSet read_cifar10(const std::vector<std::string>& batch_paths) {
  constexpr int64_t kPixels = 3 * 32 * 32, kRecord = 1 + kPixels;
  ImageSet s;
  s.channels = 3;
  s.height = 32;
  s.width = 32;
  for (const auto& path : batch_paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path + ": cannot open (CIFAR-10 binary batch)");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    const auto n = static_cast<int64_t>(bytes.size());
    if (n == 0 || n % kRecord != 0)
      bad(path, n - n % kRecord,
          "size " + std::to_string(n) + " is not a whole number of 3073-byte CIFAR-10 records");
    for (int64_t r = 0; r < n / kRecord; ++r) {
      const uint8_t label = bytes[static_cast<size_t>(r * kRecord)];
      if (label > 9) bad(path, r * kRecord, "label " + std::to_string(label) + " is not in 0..9");
      s.labels.push_back(label);
      s.pixels.insert(s.pixels.end(), bytes.begin() + static_cast<std::ptrdiff_t>(r * kRecord + 1),
                      bytes.begin() + static_cast<std::ptrdiff_t>((r + 1) * kRecord));
    }
    s.count += n / kRecord;
  }
  return s;
}

}  // namespace maw::data
