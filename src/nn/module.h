// Module: the unit networks are built from. A module owns named parameters (Vars
// that receive gradients), named buffers (Tensors that are state but not learned,
// e.g. BatchNorm's running statistics) and named child modules. Names nest with
// dots exactly as PyTorch's state_dict does ("backbone.0.weight"), so checkpoints
// and golden files line up key by key.
#pragma once
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"

namespace dl::nn {

class Module {
 public:
  virtual ~Module() = default;
  virtual Var forward(const Var& x) = 0;
  Var operator()(const Var& x) { return forward(x); }
  virtual std::string name() const = 0;   // "Conv2d", shown in summaries

  // train(true) switches BatchNorm to batch statistics and Dropout on, recursively.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Parameters and buffers of this module and all descendants, with dotted names,
  // in registration order (deterministic: optimizers and checkpoints rely on it).
  std::vector<std::pair<std::string, Var>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  // Random generators a module draws from while training (Dropout's masks): state that
  // is neither learned nor a tensor, saved by --resume so a continued run draws the same.
  std::vector<std::pair<std::string, Rng*>> named_rngs();
  std::vector<Var> parameters() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children() const {
    return children_;
  }
  int64_t num_parameters() const;
  // Freezing (transfer learning): frozen parameters get no gradient and optimizers skip them.
  void set_requires_grad(bool on);

 protected:
  Var register_parameter(const std::string& name, Tensor value);
  Tensor* register_buffer(const std::string& name, Tensor value);
  void register_rng(const std::string& name, Rng* rng);  // a member of this module
  void register_module(const std::string& name, std::shared_ptr<Module> child);

 private:
  void collect_parameters(const std::string& prefix,
                          std::vector<std::pair<std::string, Var>>& out) const;
  void collect_buffers(const std::string& prefix,
                       std::vector<std::pair<std::string, Tensor*>>& out);

  bool training_ = true;
  std::vector<std::pair<std::string, Var>> params_;
  std::deque<std::pair<std::string, Tensor>> buffers_;  // deque: pointers stay valid
  std::vector<std::pair<std::string, Rng*>> rngs_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

using ModulePtr = std::shared_ptr<Module>;

}  // namespace dl::nn
