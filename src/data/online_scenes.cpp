#include "data/online_scenes.h"

namespace dl {

OnlineScenes make_online_scenes(const SceneOptions& options, const std::string& fashion_dir,
                                const std::string& texture_dir) {
  validate(options);
  return {options, load_scene_sources(options.split, fashion_dir, find_texture_dir(texture_dir))};
}

DetectionItem online_scene(const OnlineScenes& set, int64_t index) {
  Scene scene = generate_scene(set.options, set.sources, index);
  DetectionItem item;
  item.image_id = index;
  item.image = std::move(scene.image);
  for (const SceneObject& o : scene.objects) {
    item.boxes.push_back(box_from({static_cast<float>(o.bbox[0]), static_cast<float>(o.bbox[1]),
                                   static_cast<float>(o.bbox[2]), static_cast<float>(o.bbox[3])},
                                  BoxFormat::XYWH));
    item.labels.push_back(o.category_id - 1);
  }
  return item;
}

}  // namespace dl
