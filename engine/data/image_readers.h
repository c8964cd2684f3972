// Readers for the image datasets' files: gzipped (or plain) IDX (MNIST / Fashion-MNIST)
// and CIFAR-10 binary batches. Torch-free: bytes in, bytes out; a task turns them into
// tensors. Malformed input throws DataError naming the file and the byte position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace maw::data {

// An IDX file of unsigned bytes (type 0x08): dims and the row-major data.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
  int64_t count() const { return dims.empty() ? 0 : dims[0]; }
};

IdxArray read_idx(const std::string& path);

// Images [N, 28, 28] and labels [N] from a Fashion-MNIST / MNIST split; checks that the
// counts agree and that every label is below `classes`.
struct ImageSet {
  int64_t count = 0, channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // [N, C, H, W]
  std::vector<uint8_t> labels;  // [N]
};
ImageSet read_idx_split(const std::string& images_path, const std::string& labels_path,
                        int classes = 10);

// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (3×32×32).
ImageSet read_cifar10(const std::vector<std::string>& batch_paths);

}  // namespace maw::data
