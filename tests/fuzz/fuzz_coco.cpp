// libFuzzer harness: COCO annotation files (data/coco.cpp), with their segmentations
// (data/rle.cpp: uncompressed and compressed RLE, polygons rasterised as pycocotools
// does). A file is either refused with dl::FileError or read into a dataset whose every
// mask can be rasterised, measured and written back to the same RLE string.
#include <cstdint>
#include <string>

#include "data/coco.h"
#include "data/rle.h"
#include "util/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dl::CocoDataset d;
  try {
    d = dl::parse_coco(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
  } catch (const dl::FileError&) {
    return 0;
  }
  for (const dl::CocoAnnotation& a : d.annotations) {
    const dl::CocoImage* im = d.find_image(a.image_id);
    if (!im) __builtin_trap();  // parse_coco refuses annotations of unlisted images
    // Rasterising is linear in the pixels; keep one input's work bounded.
    if (int64_t(im->width) * im->height > (1 << 22)) continue;
    const dl::Rle r = dl::annotation_to_rle(a, im->height, im->width);
    uint64_t total = 0;
    for (uint32_t c : r.counts) total += c;
    if (total != uint64_t(im->width) * uint64_t(im->height)) __builtin_trap();
    if (dl::rle_area(r) > total) __builtin_trap();
    (void)dl::rle_to_bbox(r);
    const dl::Rle back = dl::rle_from_string(dl::rle_to_string(r), r.height, r.width);
    if (dl::rle_to_string(back) != dl::rle_to_string(r)) __builtin_trap();
  }
  return 0;
}
