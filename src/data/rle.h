// COCO's run-length encoding of binary masks, compatible bit for bit with the
// reference implementation (pycocotools' maskApi): same run convention, same
// compressed string, same polygon rasteriser.
//
// Convention: the mask is read in COLUMN-major order (down the first column, then
// the next), and counts alternate runs of 0s and 1s, starting with 0s (so counts[0]
// may be 0). A height x width mask has sum(counts) == height * width.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dl {

// A binary mask stored row-major like images (data[y * width + x], 0 or 1).
struct Mask {
  int height = 0, width = 0;
  std::vector<uint8_t> data;

  Mask() = default;
  Mask(int height, int width, uint8_t value = 0);
  uint8_t& at(int x, int y) { return data[static_cast<size_t>(y) * width + x]; }
  uint8_t at(int x, int y) const { return data[static_cast<size_t>(y) * width + x]; }
};

struct Rle {
  int height = 0, width = 0;
  std::vector<uint32_t> counts;
};

// Non-zero pixels count as 1.
Rle rle_encode(const Mask& mask);
// Throws std::invalid_argument if the counts do not add up to height * width.
Mask rle_decode(const Rle& rle);

// The compressed "counts" string of COCO JSON: each count (after the third, as the
// difference to the count two places before, which is small: neighbouring columns
// look alike) is written as 5-bit chunks, least significant first, in characters
// '0' + chunk, where bit 0x20 says "another chunk follows" and, in the last chunk,
// bit 0x10 is the sign.
std::string rle_to_string(const Rle& rle);
// Throws std::invalid_argument on a malformed string or wrong total.
Rle rle_from_string(const std::string& counts, int height, int width);

uint64_t rle_area(const Rle& rle);
// The tight box [x, y, w, h] of a mask (zeros when empty) and its pixel count: the
// plain pixel scans rle_to_bbox and rle_area are tested against.
std::array<double, 4> mask_bbox(const Mask& mask);
int64_t mask_area(const Mask& mask);                   // number of 1 pixels
// Tight box [x, y, w, h] of the 1 pixels (all zeros for an empty mask), as COCO's toBbox.
std::array<double, 4> rle_to_bbox(const Rle& rle);

// Union (intersect = false) or intersection of same-sized masks, without decoding.
Rle rle_merge(const std::vector<Rle>& rles, bool intersect = false);
// Intersection over union; for a crowd ground truth, COCO divides by the detection's
// area instead (a detection inside a crowd region is not penalised for the rest).
double rle_iou(const Rle& dt, const Rle& gt, bool gt_iscrowd = false);

// Polygon [x0, y0, x1, y1, ...] (pixel coordinates, pixel i covers [i, i+1)) to a
// mask, exactly as pycocotools' frPoly: edges are traced on a 5x finer grid, and a
// pixel is inside when its centre lies inside the polygon (up to that grid).
Rle rle_from_polygon(const std::vector<double>& xy, int height, int width);
// Several polygons of one object, merged (union), as COCO's annToRLE does.
Rle rle_from_polygons(const std::vector<std::vector<double>>& polygons, int height, int width);
// A box [x, y, w, h] as a mask, through its 4-corner polygon (COCO's frBbox).
Rle rle_from_bbox(const std::array<double, 4>& box, int height, int width);

}  // namespace dl
