// Optimizers: SGD with momentum/Nesterov, Adam, AdamW. The update formulas are
// PyTorch's (torch.optim, 1.13) so golden tests compare step by step:
//  SGD:   g = grad + wd*p; b = g (first step) or mu*b + (1-dampening)*g;
//         g = nesterov ? g + mu*b : b;  p -= lr*g                      (Sutskever et al. 2013)
//  Adam:  g = grad + wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
//         p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)          (Kingma & Ba 2015, Alg. 1)
//  AdamW: p *= 1 - lr*wd (decoupled weight decay), then Adam with wd=0 (Loshchilov & Hutter 2019, Alg. 2)
// Parameters whose requires_grad is false (frozen) or that have no gradient are skipped.
#pragma once
#include <vector>

#include "autograd/variable.h"

namespace dl::nn {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Var> params, float lr) : params_(std::move(params)), lr_(lr) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  const std::vector<Var>& params() const { return params_; }
  // What step() remembers besides the parameters, for --resume to save and restore:
  // per-parameter tensors named "<kind>.<index>" (undefined until the parameter's first
  // update) and integer counters.
  virtual std::vector<std::pair<std::string, Tensor*>> state_tensors() = 0;
  virtual std::vector<std::pair<std::string, int64_t*>> state_counters() { return {}; }

 protected:
  bool active(const Var& p) const { return p.requires_grad() && p.grad().defined(); }
  std::vector<Var> params_;
  float lr_;
};

struct SgdOptions {
  float momentum = 0.0f, dampening = 0.0f, weight_decay = 0.0f;
  bool nesterov = false;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Var> params, float lr, SgdOptions o = {});
  void step() override;
  std::vector<std::pair<std::string, Tensor*>> state_tensors() override;

 private:
  SgdOptions o_;
  std::vector<Tensor> buf_;  // momentum buffers, undefined until first use
};

struct AdamOptions {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  bool decoupled = false;  // true = AdamW
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Var> params, float lr, AdamOptions o = {});
  void step() override;
  std::vector<std::pair<std::string, Tensor*>> state_tensors() override;
  std::vector<std::pair<std::string, int64_t*>> state_counters() override;

 private:
  AdamOptions o_;
  std::vector<Tensor> m_, v_;
  std::vector<int64_t> t_;  // per-parameter step count (frozen ones do not advance)
};

// AdamW's default weight decay is 1e-2, as in PyTorch.
inline Adam AdamW(std::vector<Var> params, float lr, float weight_decay = 1e-2f,
                  AdamOptions o = {}) {
  o.weight_decay = weight_decay;
  o.decoupled = true;
  return Adam(std::move(params), lr, o);
}

// Rescales all gradients together so their global L2 norm is at most max_norm
// (Pascanu et al. 2013); returns the norm before clipping. Sums in double, in order.
float clip_grad_norm(const std::vector<Var>& params, float max_norm);

}  // namespace dl::nn
