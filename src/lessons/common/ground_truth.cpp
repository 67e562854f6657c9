#include "lessons/common/ground_truth.h"

#include <filesystem>

namespace dl::cli {

namespace fs = std::filesystem;

std::optional<std::vector<TruthBox>> GroundTruthFinder::find(const std::string& image_path) {
  const fs::path image = fs::absolute(image_path).lexically_normal();
  // datagen writes SPLIT/images/NAME.png with file_name "NAME.png"; other COCO folders keep
  // SPLIT/NAME or name the subfolder in file_name: try the image's folder and its parent.
  for (const fs::path& split : {image.parent_path(), image.parent_path().parent_path()}) {
    const fs::path json = split / "annotations.json";
    if (!fs::exists(json)) continue;
    auto it = splits_.find(json.string());
    if (it == splits_.end()) it = splits_.emplace(json.string(), read_coco(json.string())).first;
    const CocoDataset& coco = it->second;
    for (const CocoImage& im : coco.images) {
      const fs::path listed = split / im.file_name, in_images = split / "images" / im.file_name;
      if (listed.lexically_normal() != image && in_images.lexically_normal() != image) continue;
      std::vector<TruthBox> boxes;
      for (const CocoAnnotation& a : coco.annotations) {
        if (a.image_id != im.id) continue;
        const CocoCategory* cat = coco.find_category(a.category_id);
        boxes.push_back({Box{float(a.bbox[0]), float(a.bbox[1]), float(a.bbox[0] + a.bbox[2]),
                             float(a.bbox[1] + a.bbox[3])},
                         cat ? cat->name : std::to_string(a.category_id)});
      }
      return boxes;
    }
  }
  return std::nullopt;
}

}  // namespace dl::cli
