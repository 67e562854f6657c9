// libFuzzer harness: the safetensors reader (nn/safetensors.cpp), which reads every model
// file. A damaged or foreign file must end in dl::FileError; a file it accepts holds
// tensors whose element counts match their shapes.
#include <cstdint>
#include <vector>

#include "nn/safetensors.h"
#include "util/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const dl::SafeTensors st =
        dl::parse_safetensors(std::vector<uint8_t>(data, data + size), "fuzz.safetensors");
    for (const auto& [name, t] : st.tensors) {
      int64_t n = 1;
      for (int64_t d : t.shape()) n *= d;
      if (n != t.numel()) __builtin_trap();
    }
  } catch (const dl::FileError&) {
  }
  return 0;
}
