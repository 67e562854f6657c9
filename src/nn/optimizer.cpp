#include "nn/optimizer.h"

#include <cmath>

namespace dl::nn {

namespace {
constexpr int64_t kParallelMin = 1 << 15;
}  // namespace

void Optimizer::zero_grad() {
  for (auto& p : params_) p.node()->grad = Tensor();
}

Sgd::Sgd(std::vector<Var> params, float lr, SgdOptions o)
    : Optimizer(std::move(params), lr), o_(o), buf_(params_.size()) {}

void Sgd::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i];
    if (!active(p)) continue;
    float* w = p.value().data();
    const float* gr = p.grad().data();
    const int64_t n = p.value().numel();
    if (o_.momentum != 0.0f && !buf_[i].defined()) {
      buf_[i] = Tensor(p.value().shape());
      float* b = buf_[i].data();
      for (int64_t j = 0; j < n; ++j) b[j] = gr[j] + o_.weight_decay * w[j];
      for (int64_t j = 0; j < n; ++j) {
        const float g = gr[j] + o_.weight_decay * w[j];
        w[j] -= lr_ * (o_.nesterov ? g + o_.momentum * b[j] : b[j]);
      }
      continue;
    }
    float* b = o_.momentum != 0.0f ? buf_[i].data() : nullptr;
    for (int64_t j = 0; j < n; ++j) {
      float g = gr[j] + o_.weight_decay * w[j];
      if (b) {
        b[j] = o_.momentum * b[j] + (1.0f - o_.dampening) * g;
        g = o_.nesterov ? g + o_.momentum * b[j] : b[j];
      }
      w[j] -= lr_ * g;
    }
  }
}

Adam::Adam(std::vector<Var> params, float lr, AdamOptions o)
    : Optimizer(std::move(params), lr), o_(o), m_(params_.size()), v_(params_.size()),
      t_(params_.size(), 0) {}

void Adam::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i];
    if (!active(p)) continue;
    if (!m_[i].defined()) {
      m_[i] = Tensor(p.value().shape());
      v_[i] = Tensor(p.value().shape());
    }
    const int64_t t = ++t_[i];
    float* w = p.value().data();
    const float* gr = p.grad().data();
    float* m = m_[i].data();
    float* v = v_[i].data();
    const int64_t n = p.value().numel();
    // Bias corrections as PyTorch computes them (double in Python, then float).
    const double bc1 = 1.0 - std::pow(static_cast<double>(o_.beta1), static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(static_cast<double>(o_.beta2), static_cast<double>(t));
    const float step_size = static_cast<float>(lr_ / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    // Every element is updated on its own, so splitting the loops between threads
    // changes no value (fc6 of fast_rcnn has 10^7 of them: ~8 % of a step on 1 thread).
    if (o_.decoupled) {
      const float decay = 1.0f - lr_ * o_.weight_decay;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
      for (int64_t j = 0; j < n; ++j) w[j] *= decay;
    }
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t j = 0; j < n; ++j) {
      float g = gr[j];
      if (!o_.decoupled) g += o_.weight_decay * w[j];
      m[j] = o_.beta1 * m[j] + (1.0f - o_.beta1) * g;
      v[j] = o_.beta2 * v[j] + (1.0f - o_.beta2) * g * g;
      const float denom = std::sqrt(v[j]) / bc2_sqrt + o_.eps;
      w[j] -= step_size * (m[j] / denom);
    }
  }
}

std::vector<std::pair<std::string, Tensor*>> Sgd::state_tensors() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t i = 0; i < buf_.size(); ++i) out.emplace_back("momentum." + std::to_string(i), &buf_[i]);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Adam::state_tensors() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t i = 0; i < m_.size(); ++i) {
    out.emplace_back("m." + std::to_string(i), &m_[i]);
    out.emplace_back("v." + std::to_string(i), &v_[i]);
  }
  return out;
}

std::vector<std::pair<std::string, int64_t*>> Adam::state_counters() {
  std::vector<std::pair<std::string, int64_t*>> out;
  for (size_t i = 0; i < t_.size(); ++i) out.emplace_back("t." + std::to_string(i), &t_[i]);
  return out;
}

float clip_grad_norm(const std::vector<Var>& params, float max_norm) {
  double total = 0.0;
  for (const auto& p : params) {
    if (!p.requires_grad() || !p.grad().defined()) continue;
    for (float g : p.grad()) total += static_cast<double>(g) * g;
  }
  const float norm = static_cast<float>(std::sqrt(total));
  const float coef = max_norm / (norm + 1e-6f);
  if (coef < 1.0f) {
    for (auto p : params) {
      if (!p.requires_grad() || !p.grad().defined()) continue;
      for (float& g : p.grad()) g *= coef;
    }
  }
  return norm;
}

}  // namespace dl::nn
