// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28x28 grey images of 10
// clothing classes, stored in LeCun's idx format (big-endian header: magic 2051 for
// images / 2049 for labels, then the counts, then raw bytes), gzip'd. Read directly
// with zlib, validated field by field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dl {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnist {
  int64_t count = 0;
  int rows = 28, cols = 28;
  std::vector<uint8_t> images;  // count * rows * cols, row-major
  std::vector<uint8_t> labels;  // count, each in [0, 10)
  const uint8_t* image(int64_t i) const { return images.data() + i * rows * cols; }
};

// "T-shirt/top", "Trouser", ..., "Ankle boot".
const std::vector<std::string>& fashion_mnist_classes();

// split "train" (60,000) or "test" (10,000) from `dir`. Throws FileError naming the
// file for a missing file, wrong magic, wrong sizes, label out of range or truncation.
FashionMnist load_fashion_mnist(const std::string& dir, const std::string& split);

// The individual readers (also take uncompressed files: gzread passes them through).
void read_idx_images(const std::string& path, FashionMnist& out);
void read_idx_labels(const std::string& path, FashionMnist& out);

}  // namespace dl
