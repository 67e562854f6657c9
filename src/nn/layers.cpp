#include "nn/layers.h"

#include <fmt/core.h>

#include "nn/init.h"

namespace dl::nn {

Conv2d::Conv2d(int in_c, int out_c, int k, int stride, int padding, Rng& rng, bool with_bias) {
  check_shape(in_c > 0 && out_c > 0 && k > 0 && stride > 0 && padding >= 0, "Conv2d",
              fmt::format("bad config in={} out={} k={} stride={} pad={}", in_c, out_c, k, stride,
                          padding));
  Tensor w({out_c, in_c, k, k});
  kaiming_uniform_(w, rng);
  weight = register_parameter("weight", w);
  if (with_bias) bias = register_parameter("bias", Tensor({out_c}));
  options.stride_h = options.stride_w = stride;
  options.pad_h = options.pad_w = padding;
}

Var Conv2d::forward(const Var& x) { return ag::conv2d(x, weight, bias, options); }

Linear::Linear(int in_f, int out_f, Rng& rng, bool with_bias) {
  check_shape(in_f > 0 && out_f > 0, "Linear", fmt::format("bad config in={} out={}", in_f, out_f));
  Tensor w({out_f, in_f});
  kaiming_uniform_(w, rng);
  weight = register_parameter("weight", w);
  if (with_bias) bias = register_parameter("bias", Tensor({out_f}));
}

Var Linear::forward(const Var& x) { return ag::linear(x, weight, bias); }

BatchNorm2d::BatchNorm2d(int c, float momentum, float eps) : momentum(momentum), eps(eps) {
  weight = register_parameter("weight", Tensor({c}, 1.0f));
  bias = register_parameter("bias", Tensor({c}, 0.0f));
  running_mean = register_buffer("running_mean", Tensor({c}, 0.0f));
  running_var = register_buffer("running_var", Tensor({c}, 1.0f));
}

Var BatchNorm2d::forward(const Var& x) {
  return ag::batch_norm(x, weight, bias, *running_mean, *running_var, is_training(), momentum,
                        eps);
}

MaxPool2d::MaxPool2d(int kernel, int stride) {
  options.kernel_h = options.kernel_w = kernel;
  options.stride_h = options.stride_w = stride > 0 ? stride : kernel;
}

Sequential::Sequential(std::vector<ModulePtr> layers) {
  for (auto& l : layers) add(std::move(l));
}

void Sequential::add(ModulePtr layer) {
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Var Sequential::forward(const Var& x) {
  Var h = x;
  for (auto& l : layers_) h = l->forward(h);
  return h;
}

static void summarise(const Module& m, const std::string& prefix, std::string& out) {
  auto kids = m.children();
  if (kids.empty()) {
    out += fmt::format("  {:<24} {:<12} {:>9} params\n", prefix, m.name(), m.num_parameters());
    return;
  }
  for (auto& c : kids) summarise(*c.second, prefix.empty() ? c.first : prefix + "." + c.first, out);
}

std::string summary(const Module& m) {
  std::string out;
  summarise(m, "", out);
  out += fmt::format("  total {} parameters\n", m.num_parameters());
  return out;
}

}  // namespace dl::nn
