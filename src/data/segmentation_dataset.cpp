#include "data/segmentation_dataset.h"

#include <fmt/core.h>

#include <filesystem>
#include <stdexcept>

#include "data/detection_dataset.h"
#include "util/files.h"

namespace dl {

namespace fs = std::filesystem;

std::string mask_path(const std::string& dir, const std::string& image_file_name) {
  return (fs::path(dir) / "masks" / fs::path(image_file_name).filename().replace_extension(".png"))
      .string();
}

SegmentationDataset load_segmentation_dataset(const std::string& dir, int64_t limit) {
  DetectionDataset det = load_detection_dataset(dir, limit);
  SegmentationDataset ds;
  ds.dir = dir;
  ds.class_names.push_back("background");
  for (const auto& name : det.class_names) ds.class_names.push_back(name);
  // category id -> label; ids are small in every file detlab writes, but any int64 may
  // appear in a COCO file: only ids 1..254 can be mask values at all.
  std::vector<int> label_of(256, -1);
  label_of[0] = 0;
  label_of[kIgnoreLabel] = kIgnoreLabel;
  for (size_t k = 0; k < det.category_ids.size(); ++k)
    if (det.category_ids[k] > 0 && det.category_ids[k] < kIgnoreLabel)
      label_of[static_cast<size_t>(det.category_ids[k])] = static_cast<int>(k) + 1;

  const int64_t n = static_cast<int64_t>(det.items.size());
  ds.items.resize(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));
  // In parallel, each image its own slot; the first error in file order is reported.
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    const std::string path = mask_path(dir, det.coco.images[i].file_name);
    try {
      SegmentationItem& item = ds.items[i];
      item.image = std::move(det.items[i].image);
      item.labels = load_image(path, 1);
      if (item.labels.width != item.image.width || item.labels.height != item.image.height)
        throw FileError(path, fmt::format("mask is {}x{} but its image is {}x{}", item.labels.width,
                                          item.labels.height, item.image.width, item.image.height));
      for (uint8_t& v : item.labels.pixels) {
        if (label_of[v] < 0)
          throw FileError(path, fmt::format("mask value {} is no category of annotations.json", v));
        v = static_cast<uint8_t>(label_of[v]);
      }
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  }
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  for (const auto& im : det.coco.images) ds.file_names.push_back(im.file_name);
  return ds;
}

}  // namespace dl
