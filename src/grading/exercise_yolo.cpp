// Exercise on YOLO v1 (lesson 06): the training targets -- which cell holds each object's
// centre, which of its B predictors is responsible (the highest IoU with the truth), and
// what that predictor should output (x, y in the cell, sqrt of w and h in the image).
#include "grading/exercises.h"
#include "models/yolo.h"

namespace dl::grading {
using json = nlohmann::json;

void add_yolo_exercises(std::vector<Exercise>& out) {
  out.push_back(
      {"yolo_targets",
       "YOLO targets: the cell of each object's centre, the responsible predictor, x, y, "
       "sqrt(w), sqrt(h) and the IoU confidence target",
       "src/models/yolo.cpp (yolo_targets)", [](const json& in, const ExerciseContext&) {
         models::YoloConfig cfg;
         cfg.grid = input(in, "grid").get<int>();
         cfg.boxes = input(in, "boxes").get<int>();
         cfg.num_classes = input(in, "num_classes").get<int>();
         const std::vector<int> size = input(in, "image_size").get<std::vector<int>>();  // h, w
         if (size.size() != 2) throw std::invalid_argument("input image_size: [height, width]");
         if (cfg.grid < 1 || cfg.boxes < 1 || cfg.num_classes < 1 || cfg.grid > 64 || cfg.boxes > 16)
           throw std::invalid_argument("input grid / boxes / num_classes out of range");
         // The network's output [S, S, 5B + C] (the predictions decide which predictor is
         // responsible); all zeros when the case gives none.
         Tensor output({1, cfg.grid, cfg.grid, cfg.depth()});
         if (in.contains("output")) {
           const Tensor o = tensor_from_json(in["output"], "output");
           if (o.numel() != output.numel())
             throw std::invalid_argument("input output: expected S x S x (5B + C) values");
           std::copy(o.begin(), o.end(), output.begin());
         }
         const std::vector<Box> gt = boxes_from_json(input(in, "ground_truth"), "ground_truth");
         const std::vector<int> labels = input(in, "labels").get<std::vector<int>>();
         if (labels.size() != gt.size())
           throw std::invalid_argument("input labels: one per ground-truth box");
         const auto targets =
             models::yolo_targets(output, {gt}, {labels}, cfg, size[1], size[0]);
         json cells = json::array(), xy = json::array(), wh = json::array(), iou = json::array();
         std::vector<int> predictors, classes, objects;
         for (const models::YoloTarget& t : targets) {
           cells.push_back({t.row, t.col});
           predictors.push_back(t.predictor);
           classes.push_back(t.cls);
           objects.push_back(t.object);
           xy.push_back({number(t.x), number(t.y)});
           wh.push_back({number(t.sqrt_w), number(t.sqrt_h)});
           iou.push_back(number(t.iou));
         }
         return json{{"cells", cells}, {"predictors", predictors}, {"classes", classes},
                     {"objects", objects}, {"xy", xy}, {"sqrt_wh", wh}, {"iou", iou}};
       },
       /*uses*/ {"box_iou"},
       /*hint*/ "YOLO, section 2.2: the cell containing an object's centre is responsible for it, and "
                "among its B predictors the one whose predicted box has the highest IoU with the object. "
                "Targets: x, y within the cell, sqrt(w) and sqrt(h) relative to the image, and that IoU as"
                " the confidence target."});
}

}  // namespace dl::grading
