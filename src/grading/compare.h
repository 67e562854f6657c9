// Comparing an exercise's outputs with a golden case's expected outputs.
// Numbers match when |got - expected| <= abs + rel * |expected| (numpy's isclose);
// with abs = rel = 0 they must be equal (kept indices, matches, counts). null stands
// for NaN (JSON has no NaN) and only matches null. Arrays must have the same length;
// a tensor {"shape": [...], "data": [...]} is reported by its multi-index. A bound
// {"at_least": x} / {"at_most": x} checks a single number (end-to-end metrics).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "grading/golden_case.h"

namespace dl::grading {

struct Mismatch {
  bool found = false;
  std::string where;      // e.g. "iou[1][2]", "y[0, 2, 1, 1]", "keep (length)"
  std::string expected;   // as text, e.g. "0.5", "length 3", ">= 0.7"
  std::string got;
  std::string tolerance;  // e.g. "abs 1e-06 + rel 1e-06", "exact"
};

// The first difference between expected and got, visiting the expected outputs in
// key order; an output that got lacks is a difference too.
Mismatch first_mismatch(const GoldenCase& c, const nlohmann::json& got);

// Number of values (leaves) in expected that differ from got, and the largest absolute
// difference among numbers present in both (for --regenerate's summary).
struct DiffSummary {
  int changed = 0, total = 0;
  double max_abs = 0;
};
DiffSummary diff_summary(const nlohmann::json& before, const nlohmann::json& after);

std::string format_number(double v);
std::string format_tolerance(const Tolerance& t);

}  // namespace dl::grading
