#include "nn/init.h"

#include <cmath>

namespace dl::nn {

void compute_fans(const Shape& s, int64_t& fan_in, int64_t& fan_out) {
  check_shape(s.size() >= 2, "compute_fans", "weight needs >= 2 dims, got " + shape_str(s));
  int64_t receptive = 1;
  for (size_t i = 2; i < s.size(); ++i) receptive *= s[i];
  fan_in = s[1] * receptive;
  fan_out = s[0] * receptive;
}

float relu_gain(float a) { return std::sqrt(2.0f / (1.0f + a * a)); }

static float kaiming_std(const Tensor& w, float a, FanMode mode) {
  int64_t fi = 0, fo = 0;
  compute_fans(w.shape(), fi, fo);
  const int64_t fan = mode == FanMode::FanIn ? fi : fo;
  return relu_gain(a) / std::sqrt(static_cast<float>(fan));
}

void uniform_(Tensor& w, Rng& rng, float lo, float hi) {
  for (float& v : w) v = rng.uniform(lo, hi);
}

void kaiming_uniform_(Tensor& w, Rng& rng, float a, FanMode mode) {
  const float b = std::sqrt(3.0f) * kaiming_std(w, a, mode);
  uniform_(w, rng, -b, b);
}

void kaiming_normal_(Tensor& w, Rng& rng, float a, FanMode mode) {
  const float sd = kaiming_std(w, a, mode);
  for (float& v : w) v = rng.normal(0.0f, sd);
}

static float xavier_std(const Tensor& w, float gain) {
  int64_t fi = 0, fo = 0;
  compute_fans(w.shape(), fi, fo);
  return gain * std::sqrt(2.0f / static_cast<float>(fi + fo));
}

void xavier_uniform_(Tensor& w, Rng& rng, float gain) {
  const float b = std::sqrt(3.0f) * xavier_std(w, gain);
  uniform_(w, rng, -b, b);
}

void xavier_normal_(Tensor& w, Rng& rng, float gain) {
  const float sd = xavier_std(w, gain);
  for (float& v : w) v = rng.normal(0.0f, sd);
}

}  // namespace dl::nn
