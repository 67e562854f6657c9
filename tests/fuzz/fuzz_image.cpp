// libFuzzer harness: image decoding (image_io.cpp: PNG, JPEG and BMP through stb_image).
// Any byte string must end as an Image of consistent size or a dl::FileError; anything
// else escaping (another exception, a sanitizer report) is a finding. The pixel limit is
// lowered so that one input cannot make the harness allocate gigabytes legitimately.
#include <cstdint>
#include <vector>

#include "image/image.h"
#include "util/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  for (int channels : {0, 3}) {  // the file's own channels, and converted to RGB
    try {
      const dl::Image img = dl::decode_image(bytes, "fuzz.img", channels, 1 << 20);
      if (img.width <= 0 || img.height <= 0 || img.channels < 1 || img.channels > 4 ||
          img.pixels.size() != size_t(img.width) * img.height * img.channels)
        __builtin_trap();
    } catch (const dl::FileError&) {
    }
  }
  return 0;
}
