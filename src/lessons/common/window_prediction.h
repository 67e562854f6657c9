// One image of `bin/sliding_window predict`: the detections drawn, optionally the
// per-class score maps (window_heatmap.h), and the image's JSON entry.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lessons/common/photo.h"
#include "models/sliding_window.h"

namespace dl::cli {

// Writes OUT_DIR/STEM.sliding_window.png (and, with `heatmap`,
// OUT_DIR/STEM.sliding_window_heatmap.png); returns {"image", "mode", "windows",
// "positions", "seconds", "detections", "annotated"[, "resized_from"][, "heatmap"]}.
nlohmann::json save_window_prediction(const std::string& path, const Photo& photo,
                                      const models::WindowDetections& d,
                                      const std::vector<std::string>& classes,
                                      const std::string& mode, bool heatmap,
                                      const std::string& out_dir);

}  // namespace dl::cli
