// The exercise registry: every concept a student may re-implement, by name, with the
// library function(s) it calls and the file(s) the student edits. A golden case names
// its exercise; the grader looks it up here and calls run(inputs) -> outputs (JSON in,
// JSON out, so a case is data only). A later lesson adds its concepts in one
// exercise_<area>.cpp and one line in exercises.cpp; the grader itself is unchanged.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "tensor/tensor.h"

namespace dl::grading {

struct ExerciseContext {
  std::string bin_dir;   // where bin/NAME programs are (end-to-end exercises)
  std::string scratch;   // a private directory the grader removes after the case
};

struct Exercise {
  std::string name;      // e.g. "nms"
  std::string concept;   // one line for --list
  // The file a student edits and the functions they write in it:
  // "src/detection/nms.cpp (nms)". `bin/grade --starter` blanks exactly these functions.
  std::string source;
  std::function<nlohmann::json(const nlohmann::json& inputs, const ExerciseContext& ctx)> run;
  // Other exercises whose functions this one calls (nms calls box_iou): a bug there can
  // fail this exercise's cases, and the grader then points at that exercise first.
  // tests/test_grade checks the list: a broken or blank exercise may fail only its own
  // cases and those of the exercises that name it here (directly or through another).
  std::vector<std::string> uses;
  std::string hint;      // the lecture's idea in a few lines: the starter file's TODO
};

const std::vector<Exercise>& exercise_registry();
const Exercise* find_exercise(const std::string& name);   // nullptr when unknown

// "src/detection/nms.cpp (nms)" -> "src/detection/nms.cpp" and {"nms"}; no file for the
// end-to-end exercise (its source is a sentence, not a path).
std::string exercise_file(const Exercise& e);
std::vector<std::string> exercise_functions(const Exercise& e);
// Every exercise `name` depends on, directly or through others, in registry order.
std::vector<std::string> exercise_dependencies(const std::string& name);

// ---- JSON <-> library types, shared by the exercise_*.cpp files -------------------
// Errors in a case's inputs throw std::invalid_argument naming the input.
const nlohmann::json& input(const nlohmann::json& inputs, const char* name);
std::vector<Box> boxes_from_json(const nlohmann::json& v, const char* name);   // [[x1,y1,x2,y2]]
nlohmann::json boxes_to_json(const std::vector<Box>& boxes);
// A tensor is {"shape": [...], "data": [...]} (row-major), or a nested array of numbers.
Tensor tensor_from_json(const nlohmann::json& v, const char* name);
nlohmann::json tensor_to_json(const Tensor& t);
nlohmann::json number(double v);   // NaN -> null (JSON has no NaN)
std::vector<float> floats_from_json(const nlohmann::json& v, const char* name);
// Row-major rows x cols values -> nested array.
nlohmann::json matrix_to_json(const std::vector<float>& values, size_t rows, size_t cols);

// Registration, one function per area (exercise_<area>.cpp).
void add_box_exercises(std::vector<Exercise>& out);        // IoU, GIoU, NMS, coding, anchors, matching
void add_roi_exercises(std::vector<Exercise>& out);        // RoI pool, RoIAlign
void add_mask_exercises(std::vector<Exercise>& out);       // mask targets, mask pasting
void add_loss_exercises(std::vector<Exercise>& out);       // multitask localisation loss
void add_metric_exercises(std::vector<Exercise>& out);     // PCK, VOC AP
void add_pose_exercises(std::vector<Exercise>& out);       // the cascade's window targets
void add_proposal_exercises(std::vector<Exercise>& out);   // graph segmentation, selective search
void add_rpn_exercises(std::vector<Exercise>& out);        // anchor labelling, the proposal layer
void add_yolo_exercises(std::vector<Exercise>& out);       // YOLO's targets
void add_ssd_exercises(std::vector<Exercise>& out);        // default boxes, hard negative mining
void add_face_exercises(std::vector<Exercise>& out);       // Tiny-YOLOv2's decoding (bin/faces)
void add_fcn_exercises(std::vector<Exercise>& out);        // max unpooling
void add_program_exercises(std::vector<Exercise>& out);    // end-to-end: train, check a metric

}  // namespace dl::grading
