#include "data/keypoint_dataset.h"

#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <stdexcept>
#include <utility>

#include "data/detection_dataset.h"
#include "data/figures.h"
#include "util/files.h"

namespace dl {

const std::vector<int>& figure_mirror() {
  static const std::vector<int> m = {5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13};
  return m;
}

bool faces_camera(const std::vector<float>& kp) {
  if (kp.size() != 3 * static_cast<size_t>(kFigureJoints))
    throw std::invalid_argument(fmt::format("faces_camera: need {} values, got {}",
                                            3 * kFigureJoints, kp.size()));
  auto labelled = [&](int j) { return kp[3 * j + 2] > 0; };
  auto at = [&](int j, int a) { return kp[3 * j + a]; };
  // Joints (src/data/figures.h): 2/3 right/left hip, 8/9 right/left shoulder, 12 neck,
  // 13 head top.
  float ux = 0, uy = -1;
  if (labelled(2) && labelled(3) && labelled(12)) {
    ux = at(12, 0) - 0.5f * (at(2, 0) + at(3, 0));
    uy = at(12, 1) - 0.5f * (at(2, 1) + at(3, 1));
  } else if (labelled(12) && labelled(13)) {
    ux = at(13, 0) - at(12, 0);
    uy = at(13, 1) - at(12, 1);
  }
  // Facing the camera, the figure's right is "up" turned a quarter turn towards the
  // image's left (y points down): (uy, -ux). The hips are the steadier pair.
  for (auto [r, l] : {std::pair<int, int>{2, 3}, {8, 9}})
    if (labelled(r) && labelled(l))
      return (at(r, 0) - at(l, 0)) * uy + (at(r, 1) - at(l, 1)) * -ux > 0;
  return true;
}

void relabel_facing_camera(std::vector<float>& kp) {
  if (faces_camera(kp)) return;
  std::vector<float> swapped(kp.size());
  for (int j = 0; j < kFigureJoints; ++j)
    for (int a = 0; a < 3; ++a) swapped[3 * j + a] = kp[3 * figure_mirror()[j] + a];
  kp = swapped;
}

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
