#include "data/detection_dataset.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "util/files.h"

namespace dl {

namespace fs = std::filesystem;

int DetectionDataset::class_of(int64_t category_id) const {
  auto it = std::find(category_ids.begin(), category_ids.end(), category_id);
  return it == category_ids.end() ? -1 : static_cast<int>(it - category_ids.begin());
}

DetectionDataset load_detection_dataset(const std::string& dir, int64_t limit) {
  if (!fs::is_directory(dir))
    throw FileError(dir, "no such dataset directory (make one with `bin/datagen scenes`)");
  DetectionDataset ds;
  ds.dir = dir;
  ds.coco = read_coco((fs::path(dir) / "annotations.json").string());
  if (limit > 0 && static_cast<int64_t>(ds.coco.images.size()) > limit) {
    ds.coco.images.resize(static_cast<size_t>(limit));
    // Keep only the kept images' annotations: an evaluation against ds.coco must not
    // count the dropped images' objects as missed.
    std::set<int64_t> kept;
    for (const auto& im : ds.coco.images) kept.insert(im.id);
    std::vector<CocoAnnotation> anns;
    for (const auto& an : ds.coco.annotations)
      if (kept.count(an.image_id)) anns.push_back(an);
    ds.coco.annotations = anns;
  }

  std::vector<CocoCategory> cats = ds.coco.categories;
  std::stable_sort(cats.begin(), cats.end(),
                   [](const CocoCategory& a, const CocoCategory& b) { return a.id < b.id; });
  for (const auto& c : cats) {
    ds.class_names.push_back(c.name);
    ds.category_ids.push_back(c.id);
  }

  std::map<int64_t, size_t> slot;
  ds.items.resize(ds.coco.images.size());
  for (size_t i = 0; i < ds.coco.images.size(); ++i) {
    ds.items[i].image_id = ds.coco.images[i].id;
    slot[ds.coco.images[i].id] = i;
  }
  for (const auto& a : ds.coco.annotations) {
    auto it = slot.find(a.image_id);
    if (it == slot.end() || a.iscrowd) continue;
    const int cls = ds.class_of(a.category_id);
    if (cls < 0)
      throw FileError((fs::path(dir) / "annotations.json").string(),
                      fmt::format("annotation {} has unknown category {}", a.id, a.category_id));
    DetectionItem& item = ds.items[it->second];
    item.boxes.push_back(box_from({static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]),
                                   static_cast<float>(a.bbox[2]), static_cast<float>(a.bbox[3])},
                                  BoxFormat::XYWH));
    item.labels.push_back(cls);
  }

  // Decode in parallel; each image has its own slot, and the first error (in file
  // order, not in finishing order) is the one reported.
  const int64_t n = static_cast<int64_t>(ds.items.size());
  std::vector<std::string> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    const CocoImage& info = ds.coco.images[i];
    fs::path p = fs::path(dir) / info.file_name;
    if (!fs::exists(p)) p = fs::path(dir) / "images" / info.file_name;
    try {
      ds.items[i].image = load_image(p.string(), 3);
      if (ds.items[i].image.width != info.width || ds.items[i].image.height != info.height)
        errors[i] = fmt::format("{}: image is {}x{} but annotations.json says {}x{}", p.string(),
                                ds.items[i].image.width, ds.items[i].image.height, info.width,
                                info.height);
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  }
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  return ds;
}

}  // namespace dl
