// libFuzzer harness: LeCun's idx files as Fashion-MNIST ships them (data/fashion_mnist.cpp),
// plain or gzip'd. Each input is read both as an images file and as a labels file: either
// refused with dl::FileError or read into exactly the items its header declares.
#include <cstdint>
#include <cstdio>
#include <string>

#include "data/fashion_mnist.h"
#include "util/files.h"
#include "scratch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = fuzz::scratch_path("fuzz_idx", "images-idx3-ubyte");
  fuzz::write_scratch(path, data, size);
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
