// Exercise on Tiny-YOLOv2's decoding (lesson 06, "a real one": face-api's Tiny Face
// Detector): from the network's grid of (tx, ty, tw, th, objectness) per anchor to boxes in
// the photo -- sigmoid offsets inside the cell, exp(t) times the anchor prior, the
// correction for the padding to a square, and the score threshold.
#include "grading/exercises.h"
#include "models/tiny_face_detector.h"

namespace dl::grading {
using json = nlohmann::json;

void add_face_exercises(std::vector<Exercise>& out) {
  out.push_back(
      {"tiny_yolo_decode",
       "Tiny-YOLOv2 decoding: sigmoid x, y and objectness, exp(w, h) x anchor priors, boxes in "
       "the photo's pixels above the score threshold",
       "src/models/tiny_face_detector.cpp (decode_tiny_face)", [](const json& in, const ExerciseContext&) {
         const Tensor o = tensor_from_json(input(in, "output"), "output");
         if (o.dim() != 4 || o.size(0) != 1 || o.size(1) != 25 || o.size(2) != o.size(3) || o.size(2) < 1)
           throw std::invalid_argument("input output: expected [1, 25, G, G]");
         const std::vector<int> size = input(in, "image_size").get<std::vector<int>>();  // h, w
         if (size.size() != 2 || size[0] < 1 || size[1] < 1)
           throw std::invalid_argument("input image_size: [height, width], positive");
         const int input_size = input(in, "input_size").get<int>();
         if (input_size < 1) throw std::invalid_argument("input input_size: positive");
         const float threshold = input(in, "score_threshold").get<float>();
         const auto found = models::decode_tiny_face(o, size[1], size[0], input_size, threshold);
         json cells = json::array(), scores = json::array();
         std::vector<Box> boxes;
         for (const auto& c : found) {
           cells.push_back({c.row, c.col, c.anchor});
           scores.push_back(number(c.score));
           boxes.push_back(c.box);
         }
         return json{{"candidates", cells}, {"scores", scores}, {"boxes", boxes_to_json(boxes)}};
       },
       /*uses*/ {},
       /*hint*/ "Per cell and anchor: centre = (cell + sigmoid(t)) / grid, size = anchor prior * exp(t) / "
                "grid, score = sigmoid(objectness); undo the padding that made the photo square, and keep "
                "the boxes above the score threshold."});
}

}  // namespace dl::grading
