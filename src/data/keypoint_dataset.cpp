#include "data/keypoint_dataset.h"

#include <fmt/core.h>

#include <filesystem>
#include <map>

#include "data/detection_dataset.h"
#include "util/files.h"

namespace dl {

KeypointDataset load_keypoint_dataset(const std::string& dir, int64_t limit) {
  DetectionDataset det = load_detection_dataset(dir, limit);
  const std::string ann_path = (std::filesystem::path(dir) / "annotations.json").string();
  KeypointDataset ds;
  ds.dir = dir;
  for (const auto& c : det.coco.categories)
    if (!c.keypoints.empty()) {
      ds.joint_names = c.keypoints;
      break;
    }
  if (ds.joint_names.empty()) throw FileError(ann_path, "no category has keypoints");
  const size_t k3 = 3 * ds.joint_names.size();
  std::map<int64_t, size_t> slot;
  ds.items.resize(det.items.size());
  for (size_t i = 0; i < det.items.size(); ++i) {
    slot[det.coco.images[i].id] = i;
    ds.items[i].image_id = det.coco.images[i].id;
    ds.items[i].file_name = det.coco.images[i].file_name;
    ds.items[i].image = std::move(det.items[i].image);
  }
  for (const auto& a : det.coco.annotations) {
    auto it = slot.find(a.image_id);
    if (it == slot.end() || a.keypoints.empty()) continue;
    KeypointItem& item = ds.items[it->second];
    if (a.keypoints.size() != k3 || !item.keypoints.empty())
      throw FileError(ann_path, fmt::format("image {}: need exactly one person with {} keypoint "
                                            "values, annotation {} breaks that",
                                            a.image_id, k3, a.id));
    item.keypoints = a.keypoints;
    item.box = box_from({static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]),
                         static_cast<float>(a.bbox[2]), static_cast<float>(a.bbox[3])},
                        BoxFormat::XYWH);
  }
  for (const auto& item : ds.items)
    if (item.keypoints.empty())
      throw FileError(ann_path, fmt::format("image {} ({}) has no keypoint annotation",
                                            item.image_id, item.file_name));
  return ds;
}

}  // namespace dl
