// The layers a CNN classifier is made of. Each wraps one autograd op (ops.h) and
// owns its parameters; shapes and names follow torch.nn so checkpoints map 1:1.
// Weights start with Kaiming-uniform for ReLU (He et al. 2015), biases at zero.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace dl::nn {

class Conv2d : public Module {
 public:
  // weight [out, in, k, k], bias [out] unless bias = false (e.g. before BatchNorm).
  Conv2d(int in_channels, int out_channels, int kernel, int stride, int padding, Rng& rng,
         bool bias = true);
  Var forward(const Var& x) override;
  std::string name() const override { return "Conv2d"; }
  Var weight, bias;
  ag::Conv2dOptions options;
};

class Linear : public Module {
 public:
  Linear(int in_features, int out_features, Rng& rng, bool bias = true);
  Var forward(const Var& x) override;
  std::string name() const override { return "Linear"; }
  Var weight, bias;  // weight [out, in]
};

// Batch normalisation (Ioffe & Szegedy 2015): per-channel weight/bias (gamma/beta)
// and buffers running_mean / running_var used in eval mode.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int channels, float momentum = 0.1f, float eps = 1e-5f);
  Var forward(const Var& x) override;
  std::string name() const override { return "BatchNorm2d"; }
  Var weight, bias;
  Tensor* running_mean;
  Tensor* running_var;
  float momentum, eps;
};

class ReLU : public Module {
 public:
  Var forward(const Var& x) override { return ag::relu(x); }
  std::string name() const override { return "ReLU"; }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(float slope = 0.01f) : slope(slope) {}
  Var forward(const Var& x) override { return ag::leaky_relu(x, slope); }
  std::string name() const override { return "LeakyReLU"; }
  float slope;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int kernel, int stride = -1);  // stride defaults to kernel
  Var forward(const Var& x) override { return ag::max_pool2d(x, options); }
  std::string name() const override { return "MaxPool2d"; }
  ag::Pool2dOptions options;
};

// Inverted dropout (Srivastava et al. 2014); its own Rng keeps masks reproducible.
class Dropout : public Module {
 public:
  explicit Dropout(float p, uint64_t seed = 0) : p(p), rng(seed) { register_rng("rng", &rng); }
  Dropout(const Dropout&) = delete;  // the registry points at this object's rng
  Dropout& operator=(const Dropout&) = delete;
  Var forward(const Var& x) override { return ag::dropout(x, p, is_training(), rng); }
  std::string name() const override { return "Dropout"; }
  float p;
  Rng rng;
};

class Flatten : public Module {
 public:
  Var forward(const Var& x) override { return ag::flatten(x, 1); }
  std::string name() const override { return "Flatten"; }
};

// Runs children in order; they are named "0", "1", ... like nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<ModulePtr> layers);
  void add(ModulePtr layer);
  Var forward(const Var& x) override;
  std::string name() const override { return "Sequential"; }
  size_t size() const { return layers_.size(); }
  ModulePtr operator[](size_t i) const { return layers_.at(i); }

 private:
  std::vector<ModulePtr> layers_;
};

// One line per leaf module with its parameter count (a model summary).
std::string summary(const Module& m);

}  // namespace dl::nn
