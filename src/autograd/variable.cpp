#include "autograd/variable.h"

#include <unordered_set>
#include <utility>

namespace dl {

namespace {
thread_local bool t_grad_enabled = true;
}

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

Var::Var(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

Var make_result(Tensor value, const char* op, const std::vector<Var>& inputs,
                std::function<void(Node& self)> backward) {
  auto node = std::make_shared<Node>();
  node->value = std::move(value);
  node->op = op;
  if (!t_grad_enabled) return Var(node);
  bool any = false;
  for (const Var& v : inputs) any = any || v.requires_grad();
  if (!any) return Var(node);
  node->requires_grad = true;
  for (const Var& v : inputs) node->inputs.push_back(v.node());
  node->backward = std::move(backward);
  return Var(node);
}

void accumulate_grad(Node& node, const Tensor& g) {
  if (!node.requires_grad) return;
  check_shape(g.shape() == node.value.shape(), node.op,
              "gradient " + g.shape_str() + " does not match value " + node.value.shape_str());
  if (!node.grad.defined())
    node.grad = g.clone();  // never alias another tensor's storage
  else
    axpy_(node.grad, 1.0f, g);
}

void accumulate_grad(Node& node, Tensor&& g) {
  if (!node.requires_grad) return;
  if (node.grad.defined() || !g.sole_owner()) return accumulate_grad(node, std::as_const(g));
  check_shape(g.shape() == node.value.shape(), node.op,
              "gradient " + g.shape_str() + " does not match value " + node.value.shape_str());
  node.grad = std::move(g);
}

void Var::backward() const {
  check_shape(node_ && node_->value.numel() == 1, "backward",
              "needs a scalar output (or pass a seed gradient), got " +
                  (node_ ? node_->value.shape_str() : std::string("undefined")));
  backward(Tensor(node_->value.shape(), 1.0f));
}

void Var::backward(const Tensor& seed) const {
  check_shape(node_ != nullptr, "backward", "undefined Var");
  if (!node_->requires_grad) return;
  // Iterative post-order DFS: deep graphs must not overflow the stack.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{node_.get(), 0}};
  seen.insert(node_.get());
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->inputs.size()) {
      Node* child = n->inputs[next++].get();
      if (child->requires_grad && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  // Interior nodes start from zero on every pass: their grads from an earlier
  // backward() were already propagated, and re-propagating them would count those
  // paths twice. Only leaves accumulate across passes.
  for (Node* n : order)
    if (n->backward) n->grad = Tensor();
  accumulate_grad(*node_, seed);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    if (n->backward && n->grad.defined()) n->backward(*n);
  }
}

void Var::zero_grad() {
  if (node_) node_->grad = Tensor();
}

Var Var::detach() const { return Var(node_->value, false); }

}  // namespace dl
