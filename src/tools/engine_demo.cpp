// A first look at the engine: fit y = 3x - 1 with gradient descent on the autodiff tape.
#include <fmt/core.h>

#include "autograd/ops.h"

int main() {
  using namespace dl;
  Rng rng(1);
  Tensor x = uniform({64, 1}, -1.0f, 1.0f, rng);
  Tensor y = add(mul(x, 3.0f), -1.0f);
  Var w(Tensor({1}, 0.0f), true), b(Tensor({1}, 0.0f), true);
  for (int step = 0; step <= 100; ++step) {
    Var pred = ag::add(ag::mul(Var(x), w), b);
    Var loss = ag::mean_all(ag::pow(ag::sub(pred, Var(y)), 2.0f));
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    axpy_(w.value(), -0.5f, w.grad());
    axpy_(b.value(), -0.5f, b.grad());
    if (step % 20 == 0)
      fmt::print("step {:3d}  loss {:.6f}  w {:.4f}  b {:.4f}\n", step, loss.item(), w.value()[0],
                 b.value()[0]);
  }
  return 0;
}
