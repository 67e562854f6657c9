#include "data/fashion_mnist.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>
#include <zlib.h>

#include "util/files.h"

namespace dl {

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                 "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

namespace {

// Fashion-MNIST has 70,000 items; a million 28x28 images (784 MB) is the most we accept.
constexpr uint32_t kMaxIdxItems = 1000000;

// Owns a gzFile; reads exactly n bytes or throws "truncated".
struct GzReader {
  std::string path;
  gzFile f = nullptr;
  explicit GzReader(const std::string& p) : path(p) {
    f = gzopen(p.c_str(), "rb");
    if (!f) throw FileError(p, "cannot open");
  }
  ~GzReader() {
    if (f) gzclose(f);
  }
  void read(void* dst, size_t n, const char* what) {
    auto* d = static_cast<uint8_t*>(dst);
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      const int got = gzread(f, d, chunk);
      if (got < 0) {
        int err = 0;
        throw FileError(path, fmt::format("corrupt gzip data ({})", gzerror(f, &err)));
      }
      if (got == 0) throw FileError(path, fmt::format("truncated while reading {}", what));
      d += got;
      n -= static_cast<size_t>(got);
    }
  }
  uint32_t u32(const char* what) {
    uint8_t b[4];
    read(b, 4, what);
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
  }
  // Reads n bytes into v, growing it as the data arrives: a header that claims more
  // items than the file holds costs a "truncated" error, not the memory it claims.
  void read_growing(std::vector<uint8_t>& v, size_t n, const char* what) {
    constexpr size_t kChunk = size_t(1) << 20;
    v.clear();
    while (v.size() < n) {
      const size_t at = v.size(), len = std::min(kChunk, n - at);
      v.resize(at + len);
      read(v.data() + at, len, what);
    }
  }
  void expect_end() {
    uint8_t extra;
    const int got = gzread(f, &extra, 1);
    if (got > 0) throw FileError(path, "trailing data after the last item");
  }
};

}  // namespace

void read_idx_images(const std::string& path, FashionMnist& out) {
  GzReader r(path);
  const uint32_t magic = r.u32("the header");
  if (magic != 2051)
    throw FileError(path, fmt::format("bad magic number {} (idx images have 2051)", magic));
  const uint32_t n = r.u32("the header"), rows = r.u32("the header"), cols = r.u32("the header");
  if (n == 0 || n > kMaxIdxItems)
    throw FileError(path, fmt::format("implausible image count {}", n));
  if (rows != 28 || cols != 28)
    throw FileError(path, fmt::format("images are {}x{}, expected 28x28", rows, cols));
  out.count = n;
  out.rows = static_cast<int>(rows);
  out.cols = static_cast<int>(cols);
  r.read_growing(out.images, size_t(n) * rows * cols, "the pixels");
  r.expect_end();
}

void read_idx_labels(const std::string& path, FashionMnist& out) {
  GzReader r(path);
  const uint32_t magic = r.u32("the header");
  if (magic != 2049)
    throw FileError(path, fmt::format("bad magic number {} (idx labels have 2049)", magic));
  const uint32_t n = r.u32("the header");
  if (n == 0 || n > kMaxIdxItems)
    throw FileError(path, fmt::format("implausible label count {}", n));
  r.read_growing(out.labels, n, "the labels");
  r.expect_end();
  for (uint32_t i = 0; i < n; ++i)
    if (out.labels[i] >= 10)
      throw FileError(path, fmt::format("label {} of item {} is outside [0, 10)", out.labels[i], i));
}

FashionMnist load_fashion_mnist(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "test")
    throw std::invalid_argument("load_fashion_mnist: split must be train or test, got " + split);
  const std::string stem = dir + "/" + (split == "train" ? "train" : "t10k");
  FashionMnist d;
  read_idx_images(stem + "-images-idx3-ubyte.gz", d);
  const int64_t n_images = d.count;
  const std::string labels_path = stem + "-labels-idx1-ubyte.gz";
  read_idx_labels(labels_path, d);
  if (static_cast<int64_t>(d.labels.size()) != n_images)
    throw FileError(labels_path, fmt::format("{} labels but {} images", d.labels.size(), n_images));
  return d;
}

}  // namespace dl
