// Exercises on SSD (lesson 06): the default boxes of one feature map, and hard negative
// mining's choice of negatives.
#include "detection/default_boxes.h"
#include "detection/hard_negative_mining.h"
#include "grading/exercises.h"

namespace dl::grading {
using json = nlohmann::json;

void add_ssd_exercises(std::vector<Exercise>& out) {
  out.push_back(
      {"ssd_default_boxes",
       "SSD's default boxes of map k: the scale formula, ratios and s', centres (i + 0.5) / f",
       "src/detection/default_boxes.cpp (ssd_scales, map_default_boxes)",
       [](const json& in, const ExerciseContext&) {
         const std::vector<int> grid = input(in, "grid").get<std::vector<int>>();        // h, w
         const std::vector<int> size = input(in, "image_size").get<std::vector<int>>();  // h, w
         if (grid.size() != 2 || size.size() != 2)
           throw std::invalid_argument("input grid / image_size: [height, width]");
         const int k = input(in, "map").get<int>(), m = input(in, "maps").get<int>();
         if (k < 1 || k > m) throw std::invalid_argument("input map: 1..maps");
         const std::vector<double> s =
             ssd_scales(input(in, "s_min").get<double>(), input(in, "s_max").get<double>(), m);
         return json{{"boxes", boxes_to_json(map_default_boxes(
                                   {grid[0], grid[1]}, s[k - 1], s[k],
                                   floats_from_json(input(in, "aspect_ratios"), "aspect_ratios"),
                                   size[0], size[1], input(in, "clip").get<bool>()))}};
       },
       /*uses*/ {},
       /*hint*/ "SSD, section 2.2: s_k = s_min + (s_max - s_min)(k - 1) / (m - 1); for ratio a, w = s_k "
                "sqrt(a) and h = s_k / sqrt(a), plus s'_k = sqrt(s_k s_k+1) for ratio 1; centres ((j + "
                "0.5) / f, (i + 0.5) / f), clipped to the image when asked."});
  out.push_back(
      {"hard_negative_mining",
       "keep the negatives with the highest confidence loss, at most ratio x positives",
       "src/detection/hard_negative_mining.cpp (hard_negatives)",
       [](const json& in, const ExerciseContext&) {
         const std::vector<int> pos = input(in, "positive").get<std::vector<int>>();
         return json{{"negatives",
                      hard_negatives(floats_from_json(input(in, "conf_loss"), "conf_loss"),
                                     std::vector<bool>(pos.begin(), pos.end()),
                                     input(in, "neg_pos_ratio").get<float>())}};
       },
       /*uses*/ {},
       /*hint*/ "SSD, section 2.2: sort the negatives by confidence loss, highest first (lower index first"
                " on ties), and keep the first ceil(neg_pos_ratio x number of positives)."});
}

}  // namespace dl::grading
