// libFuzzer harness: the TensorFlow.js weights manifest reader (nn/tfjs_weights.cpp) that
// bin/import_tfjs runs on downloaded manifests. The input is a manifest, a zero byte, then
// the bytes every shard path reads. A bad manifest must end in dl::FileError; an accepted
// one holds tensors whose element counts match their shapes, and the layout change keeps
// the element count.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "nn/tfjs_weights.h"
#include "util/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* zero = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t split = zero ? static_cast<size_t>(zero - data) : size;
  const std::string manifest(reinterpret_cast<const char*>(data), split);
  const std::vector<uint8_t> shard(zero ? zero + 1 : data + size, data + size);
  try {
    const auto weights = dl::parse_tfjs_weights(manifest, "fuzz.json",
                                                [&](const std::string&) { return shard; });
    for (const dl::TfjsWeight& w : weights) {
      int64_t n = 1;
      for (int64_t d : w.shape) n *= d;
      if (n != w.value.numel() || dl::to_detlab_layout(w).numel() != n) __builtin_trap();
    }
  } catch (const dl::FileError&) {
  }
  return 0;
}
