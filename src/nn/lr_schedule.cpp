#include "nn/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace dl::nn {

double step_lr(double base, int t, int step_size, double gamma) {
  return base * std::pow(gamma, std::floor(static_cast<double>(t) / std::max(1, step_size)));
}

double cosine_lr(double base, int t, int total, double eta_min) {
  const double pi = 3.14159265358979323846;
  const int tt = std::min(t, std::max(1, total));
  return eta_min + (base - eta_min) * (1.0 + std::cos(pi * tt / std::max(1, total))) / 2.0;
}

double warmup_factor(int t, int warmup, double start) {
  if (warmup <= 0) return 1.0;
  return start + (1.0 - start) * std::min(t, warmup) / static_cast<double>(warmup);
}

double LrSchedule::at(int t) const {
  double lr = base_lr;
  if (kind == Kind::Step) lr = step_lr(base_lr, t, step_size, gamma);
  if (kind == Kind::Cosine) lr = cosine_lr(base_lr, t, total, eta_min);
  return lr * warmup_factor(t, warmup, warmup_start);
}

}  // namespace dl::nn
