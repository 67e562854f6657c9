// Finite-difference gradient check. f maps the inputs to an output of any shape;
// the check compares the analytic gradient of sum(f(x) * r), r a fixed random
// weighting, with central differences (f(x + eps) - f(x - eps)) / 2 eps computed in
// double from float evaluations, element by element.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace dl {

struct GradcheckResult {
  bool ok = true;
  float max_abs_err = 0.0f;  // largest |analytic - numeric|
  float max_rel_err = 0.0f;  // largest |analytic - numeric| / max(1, |numeric|)
  std::string detail;        // the first failing element: input, index, both values
};

// Inputs with requires_grad are checked; others are held fixed.
GradcheckResult gradcheck(const std::function<Var(const std::vector<Var>&)>& f,
                          const std::vector<Var>& inputs, float eps = 1e-2f, float atol = 1e-2f,
                          float rtol = 1e-2f, uint64_t seed = 7);

}  // namespace dl
