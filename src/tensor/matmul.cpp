// matmul / bmm: shape checks around gemm().
#include "tensor/gemm.h"
#include "tensor/ops.h"

namespace dl {

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_shape(a.dim() == 2 && b.dim() == 2, "matmul",
              "needs 2-d tensors, got " + a.shape_str() + " and " + b.shape_str());
  const int64_t M = trans_a ? a.size(1) : a.size(0), K = trans_a ? a.size(0) : a.size(1);
  const int64_t Kb = trans_b ? b.size(1) : b.size(0), N = trans_b ? b.size(0) : b.size(1);
  check_shape(K == Kb, "matmul",
              "inner dimensions differ: " + a.shape_str() + (trans_a ? "^T" : "") + " x " +
                  b.shape_str() + (trans_b ? "^T" : ""));
  Tensor c = Tensor::uninitialized({M, N});  // gemm with beta = 0 writes every element
  gemm(trans_a, trans_b, M, N, K, 1.0f, a.data(), a.size(1), b.data(), b.size(1), 0.0f,
       c.data(), N);
  return c;
}

Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_shape(a.dim() == 3 && (b.dim() == 3 || b.dim() == 2), "bmm",
              "needs [B,M,K] and [B,K,N] or [K,N], got " + a.shape_str() + " and " +
                  b.shape_str());
  const int64_t B = a.size(0);
  check_shape(b.dim() == 2 || b.size(0) == B, "bmm",
              "batch sizes differ: " + a.shape_str() + " and " + b.shape_str());
  const int64_t M = trans_a ? a.size(2) : a.size(1), K = trans_a ? a.size(1) : a.size(2);
  const int64_t Kb = trans_b ? b.size(-1) : b.size(-2), N = trans_b ? b.size(-2) : b.size(-1);
  check_shape(K == Kb, "bmm", "inner dimensions differ: " + a.shape_str() + " x " + b.shape_str());
  Tensor c = Tensor::uninitialized({B, M, N});  // every [M, N] block written as in matmul
  const int64_t bstride = b.dim() == 3 ? b.size(1) * b.size(2) : 0;
  for (int64_t i = 0; i < B; ++i)
    gemm(trans_a, trans_b, M, N, K, 1.0f, a.data() + i * a.size(1) * a.size(2), a.size(2),
         b.data() + i * bstride, b.size(-1), 0.0f, c.data() + i * M * N, N);
  return c;
}

}  // namespace dl
