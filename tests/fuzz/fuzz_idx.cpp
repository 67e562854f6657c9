// libFuzzer harness: LeCun's idx files as Fashion-MNIST ships them (data/fashion_mnist.cpp),
// plain or gzip'd. Each input is read both as an images file and as a labels file: either
// refused with dl::FileError or read into exactly the items its header declares.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "data/fashion_mnist.h"
#include "util/files.h"

namespace {
// The readers take a path (zlib reads the file): one scratch file in memory (tmpfs),
// rewritten per input (on disk, each rewrite waits for a flush).
const std::string& scratch_path() {
  static const std::string path = [] {
    char name[] = "/dev/shm/fuzz_idx_XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) __builtin_trap();
    close(fd);
    return std::string(name);
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  try {
    dl::FashionMnist d;
    dl::read_idx_images(path, d);
    if (d.count <= 0 || d.images.size() != size_t(d.count) * d.rows * d.cols) __builtin_trap();
  } catch (const dl::FileError&) {
  }
  try {
    dl::FashionMnist d;
    dl::read_idx_labels(path, d);
    for (uint8_t label : d.labels)
      if (label >= 10) __builtin_trap();
  } catch (const dl::FileError&) {
  }
  return 0;
}
