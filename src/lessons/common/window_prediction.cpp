#include "lessons/common/window_prediction.h"

#include <filesystem>

#include "lessons/common/draw_detections.h"
#include "lessons/common/window_heatmap.h"

namespace dl::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

json save_window_prediction(const std::string& path, const Photo& photo,
                            const models::WindowDetections& d, const std::vector<std::string>& classes,
                            const std::string& mode, bool heatmap, const std::string& out_dir) {
  const Image& img = photo.image;
  fs::create_directories(out_dir);
  const std::string stem = (fs::path(out_dir) / fs::path(path).stem()).string();
  const std::string png = stem + ".sliding_window.png";
  save_image(png, draw_detections(img, d.dets, classes));
  json entry = {{"image", path}, {"mode", mode}, {"windows", d.scores.windows},
                {"positions", d.scores.positions}, {"seconds", d.seconds},
                {"detections", detections_json(d.dets, classes)}, {"annotated", png}};
  if (photo.reduced()) entry["resized_from"] = {photo.file_width, photo.file_height};
  if (heatmap) {
    const std::string heat = stem + ".sliding_window_heatmap.png";
    save_image(heat, heatmap_grid(img, d.levels, d.scores.probs, classes));
    entry["heatmap"] = heat;
  }
  return entry;
}

}  // namespace dl::cli
