// The loops of the element-wise ops: out[i] = f(a[i]), or f(a[i], b[i]) for two tensors
// of the same shape. Every element is independent, so the result is the same for any
// thread count. tensor/elementwise.cpp's math and autograd's activations both use them.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace dl {

constexpr int64_t kMapParallelMin = 1 << 15;  // below this, threads cost more than they save

template <class F>
Tensor map1(const Tensor& a, F f) {
  Tensor out = Tensor::uninitialized(a.shape());  // every element written below
  const float* pa = a.data();
  float* po = out.data();
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > kMapParallelMin)
  for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i]);
  return out;
}

// a and b must have the same shape (the caller checks).
template <class F>
Tensor map2(const Tensor& a, const Tensor& b, F f) {
  Tensor out = Tensor::uninitialized(a.shape());  // every element written below
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > kMapParallelMin)
  for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
  return out;
}

}  // namespace dl
