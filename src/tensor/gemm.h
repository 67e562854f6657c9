// General matrix multiply C = alpha * op(A) * op(B) + beta * C, row-major.
// op(X) is X or X^T; op(A) is M x K, op(B) is K x N, C is M x N.
// lda/ldb/ldc are the row strides of A, B, C as stored.
//
// gemm() is the fast path: packed panels, a register-blocked AVX2/FMA micro-kernel,
// OpenMP over independent blocks of C (each C element is computed by exactly one
// thread with a fixed summation order, so results do not depend on thread count).
// gemm_reference() is the three-loop definition the tests use as the oracle.
#pragma once
#include <cstdint>

namespace dl {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                    float* C, int64_t ldc);

}  // namespace dl
