// Reverse-mode automatic differentiation in the micrograd style: every op returns a
// Var whose Node remembers its inputs and a backward function. backward() sorts the
// graph topologically and runs those functions from the output to the leaves.
// Gradients accumulate (+=) into Node::grad until zero_grad().
#pragma once
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "tensor/ops.h"
#include "tensor/tensor.h"

namespace dl {

struct Node {
  Tensor value;
  Tensor grad;                        // undefined until something flows into it
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  // Reads this node's grad and adds each input's share into that input's grad.
  std::function<void(Node& self)> backward;
};
using NodePtr = std::shared_ptr<Node>;

class Var {
 public:
  Var() = default;
  explicit Var(Tensor value, bool requires_grad = false);
  explicit Var(NodePtr node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }
  const Tensor& grad() const { return node_->grad; }
  Tensor& grad() { return node_->grad; }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const Shape& shape() const { return node_->value.shape(); }
  int64_t size(int axis) const { return node_->value.size(axis); }
  int dim() const { return node_->value.dim(); }
  float item() const { return node_->value.item(); }
  const char* op() const { return node_->op; }
  const NodePtr& node() const { return node_; }

  // Backpropagates from this scalar (seed 1) or with an explicit seed gradient.
  void backward() const;
  void backward(const Tensor& seed) const;
  void zero_grad();                   // drops this node's gradient
  Var detach() const;                 // same value, cut from the graph

 private:
  NodePtr node_;
};

// Builds the Var for an op's result. When gradients are off (NoGradGuard) or no
// input needs one, the inputs and backward function are dropped, so inference
// keeps no graph alive.
Var make_result(Tensor value, const char* op, const std::vector<Var>& inputs,
                std::function<void(Node& self)> backward);

// node.grad += g, allocating on first use; a no-op for nodes that need no grad.
void accumulate_grad(Node& node, const Tensor& g);
// The same for a gradient nobody else will read (a backward's fresh result): its
// storage becomes node.grad instead of being copied, when nothing else shares it.
void accumulate_grad(Node& node, Tensor&& g);

// Grad mode is per thread (like PyTorch's), not global: a guard in one thread never
// changes another's graph building.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace dl
