// libFuzzer harness: proposal-cache files (proposals/proposal_cache.cpp). decode either
// refuses the bytes or returns exactly the boxes they hold (encoding them again gives the
// same bytes); plausible_proposals must decide on any boxes, NaN included.
#include <cstdint>
#include <vector>

#include "proposals/proposal_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  std::vector<dl::Box> boxes;
  if (!dl::decode_proposals(bytes, boxes)) return 0;
  if (dl::encode_proposals(boxes) != bytes) __builtin_trap();
  (void)dl::plausible_proposals(boxes, 64, 64, 2000);
  return 0;
}
