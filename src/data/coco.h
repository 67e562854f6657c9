// COCO annotation files (Lin et al. 2014, "Microsoft COCO"; format documented at
// cocodataset.org/#format-data): images, categories (with keypoint names and the
// skeleton for person keypoints), and annotations with box, area, crowd flag,
// segmentation (polygons, uncompressed RLE or compressed RLE) and keypoints.
// Results files are a JSON array of detections carrying a score.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/rle.h"

namespace dl {

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  int width = 0, height = 0;
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
  std::string supercategory;
  std::vector<std::string> keypoints;         // joint names (keypoint categories only)
  std::vector<std::pair<int, int>> skeleton;  // limbs as 1-based joint indices, as in COCO
};

struct CocoSegmentation {
  enum class Kind { None, Polygons, Rle, CompressedRle };
  Kind kind = Kind::None;
  std::vector<std::vector<double>> polygons;  // Kind::Polygons: [x0, y0, x1, y1, ...] each
  Rle rle;                                    // Kind::Rle and Kind::CompressedRle
};

struct CocoAnnotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  std::array<double, 4> bbox{};  // [x, y, width, height]
  double area = 0;
  bool iscrowd = false;
  CocoSegmentation segmentation;
  std::vector<float> keypoints;  // x, y, v per joint (v: 0 unlabelled, 1 hidden, 2 visible)
  int num_keypoints = 0;
  double score = -1;             // results files only; -1 when absent
};

struct CocoDataset {
  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  std::vector<CocoAnnotation> annotations;

  const CocoImage* find_image(int64_t id) const;        // nullptr when absent
  const CocoCategory* find_category(int64_t id) const;  // nullptr when absent
};

// Throws FileError("path: annotations[3]: missing field 'bbox'") and the like for
// malformed JSON, missing or mistyped fields.
CocoDataset read_coco(const std::string& path);
CocoDataset parse_coco(const std::string& json_text, const std::string& name);
// RLE segmentations are written compressed (the string form).
void write_coco(const std::string& path, const CocoDataset& dataset);
std::string coco_to_json(const CocoDataset& dataset);

// Results: [{"image_id", "category_id", "bbox" | "segmentation" | "keypoints", "score"}].
std::vector<CocoAnnotation> read_coco_results(const std::string& path);
void write_coco_results(const std::string& path, const std::vector<CocoAnnotation>& results);

// The annotation's mask as an RLE for an image of the given size (polygons are
// rasterised and merged, like COCO's annToRLE). Empty mask when there is none.
Rle annotation_to_rle(const CocoAnnotation& ann, int height, int width);

}  // namespace dl
