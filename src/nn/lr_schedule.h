// Learning-rate schedules as pure functions of the step (or epoch) counter, matching
// torch.optim.lr_scheduler's closed forms:
//  step:    lr0 * gamma^floor(t / step_size)                     (StepLR)
//  cosine:  eta_min + (lr0 - eta_min) * (1 + cos(pi t / T)) / 2  (SGDR, Loshchilov & Hutter 2017)
//  warm-up: lr0 * (start + (1 - start) * min(t, W) / W)          (LinearLR; Goyal et al. 2017)
#pragma once
#include <string>

namespace dl::nn {

struct LrSchedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  double base_lr = 0.1;
  int step_size = 1;          // Step
  double gamma = 0.1;         // Step
  int total = 1;              // Cosine: T_max
  double eta_min = 0.0;       // Cosine
  int warmup = 0;             // linear warm-up steps (0 = none), multiplies the above
  double warmup_start = 0.1;  // factor at t = 0

  double at(int t) const;
};

double step_lr(double base, int t, int step_size, double gamma);
double cosine_lr(double base, int t, int total, double eta_min);
double warmup_factor(int t, int warmup, double start);

}  // namespace dl::nn
