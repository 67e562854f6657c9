#include "data/instance_masks.h"

#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <stdexcept>

#include "util/files.h"

namespace dl {

std::vector<std::vector<Mask>> load_instance_masks(const DetectionDataset& ds) {
  const std::string file = (std::filesystem::path(ds.dir) / "annotations.json").string();
  std::map<int64_t, size_t> slot;
  for (size_t i = 0; i < ds.items.size(); ++i) slot[ds.items[i].image_id] = i;
  std::vector<std::vector<Mask>> masks(ds.items.size());
  // The same walk as load_detection_dataset's, so mask j belongs to box j.
  for (const CocoAnnotation& a : ds.coco.annotations) {
    auto it = slot.find(a.image_id);
    if (it == slot.end() || a.iscrowd) continue;
    const Image& img = ds.items[it->second].image;
    if (a.segmentation.kind == CocoSegmentation::Kind::None)
      throw FileError(file, fmt::format("annotation {} has no segmentation", a.id));
    Rle rle = annotation_to_rle(a, img.height, img.width);
    if (rle.height != img.height || rle.width != img.width)
      throw FileError(file, fmt::format("annotation {}: mask is {}x{} but its image is {}x{}",
                                        a.id, rle.width, rle.height, img.width, img.height));
    try {
      masks[it->second].push_back(rle_decode(rle));
    } catch (const std::invalid_argument& e) {
      throw FileError(file, fmt::format("annotation {}: {}", a.id, e.what()));
    }
  }
  return masks;
}

}  // namespace dl
