// A golden case: one check of one exercise, stored as a JSON file in
// data/golden/<lesson>/<case>.json. The grader never hard-codes a case, so a lesson
// adds its checks by dropping files into its folder.
//
// {
//   "exercise": "box_iou",                 // name in the exercise registry (exercises.h)
//   "description": "touching boxes",       // optional, shown by --list
//   "points": 1,                           // default 1
//   "time_limit_s": 10,                    // default 10; the child is killed after it
//   "tolerance": {"abs": 1e-6, "rel": 1e-6,          // |got - exp| <= abs + rel*|exp|
//                 "outputs": {"argmax": "exact"}},   // per-output override
//                or "exact"
//   "inputs":   {...},                     // the exercise's arguments; a value
//                                          //   {"file": "x.json"} is read from that file
//                                          //   (relative to the case's folder)
//   "expected": {"iou": [[...]], ...}      // outputs; a value {"at_least": x} or
//                                          //   {"at_most": x} is a bound, not a value
// }
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dl::grading {

struct Tolerance {
  double abs = 0, rel = 0;   // both 0: exact
};

struct GoldenCase {
  std::string path;          // the .json file
  std::string lesson;        // its folder's name
  std::string name;          // file name without .json
  std::string exercise;
  std::string description;
  double points = 1;
  double time_limit_s = 10;
  Tolerance tolerance;                                // the default for every output
  std::vector<std::pair<std::string, Tolerance>> output_tolerance;  // overrides
  nlohmann::json inputs;     // with {"file": ...} references resolved
  nlohmann::json expected;

  Tolerance tolerance_for(const std::string& output) const;
};

// Reads and checks one case; FileError names the file and what is wrong with it.
GoldenCase load_case(const std::string& path);

// Rewrites the case file with new expected outputs (bounds are kept as they are),
// keeping every other field of the file untouched.
void save_expected(const GoldenCase& c, const nlohmann::json& expected);

// Lesson folders under root, sorted.
std::vector<std::string> list_lessons(const std::string& root);
// The cases of one lesson, sorted by file name. FileError when the folder is missing.
std::vector<GoldenCase> load_lesson(const std::string& root, const std::string& lesson);

}  // namespace dl::grading
