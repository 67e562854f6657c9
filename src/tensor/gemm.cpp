// Fast single-precision GEMM: C = alpha * op(A) * op(B) + beta * C (row-major).
//
// The structure follows Goto & van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication" (ACM TOMS 34(3), 2008), as refined in BLIS:
//
//   split C into one region per thread (along its longer side)   -- OpenMP
//   for jc in region's columns step NC     -- a column panel of C and op(B)
//     for pc in K step KC                   -- a KC-deep slice of the sum
//       pack op(B)[pc:pc+KC, jc:jc+NC] into Bp: slivers of NR columns, k-major,
//            so the micro-kernel streams it with unit stride (sec. 6 "packing")
//       for ic in region's rows step MC
//         pack op(A)[ic:ic+MC, pc:pc+KC] into Ap: slivers of MR rows, k-major
//         for jr in panel step NR       -- one KC x NR sliver of Bp stays in L1
//           for ir in block step MR     -- the MC x KC block of Ap stays in L2
//             micro-kernel: MR x NR tile of C += Ap-sliver * Bp-sliver
//
// The micro-kernel keeps the whole MR x NR = 6 x 16 tile of C in 12 AVX registers
// (6 rows x 2 vectors of 8 floats), and per k does 2 vector loads of B, 6 broadcasts
// of A and 12 fused multiply-adds: 2 loads per 12 FMAs is what lets it run near the
// FMA units' peak (the "GEBP" kernel of the paper, sec. 4-5).
//
// Packing also makes the transposes free: trans_a/trans_b only change how the packing
// loops read A and B; the kernel always sees the same layout. Edge tiles are packed
// with zeros, so the kernel always computes a full 6 x 16 tile and only the valid part
// is written back.
//
// Determinism: every C element is owned by exactly one thread, its register tile sits on
// the same global MR x NR grid, and its sum is always accumulated in the same order
// (k within a KC slice, then slice after slice into C; the slices depend on K only).
// Hence the result is bit-identical for any OpenMP thread count.
#include "tensor/gemm.h"

#include <algorithm>
#include <vector>

#include <omp.h>

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace dl {
namespace {

constexpr int64_t MR = 6;     // rows of the register tile
constexpr int64_t NR = 16;    // columns of the register tile (2 AVX vectors)
constexpr int64_t KC = 256;   // depth of a slice: Ap sliver 6 KB, Bp sliver 16 KB (L1)
constexpr int64_t MC = 96;    // rows of an A block: 96 x 256 x 4 B = 96 KB (L2)
constexpr int64_t NC = 3072;  // columns of a B panel: 256 x 3072 x 4 B = 3 MB (L3)

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

// Element (i, k) of op(A) and (k, j) of op(B).
inline float op_a(const float* A, int64_t lda, bool t, int64_t i, int64_t k) {
  return t ? A[k * lda + i] : A[i * lda + k];
}
inline float op_b(const float* B, int64_t ldb, bool t, int64_t k, int64_t j) {
  return t ? B[j * ldb + k] : B[k * ldb + j];
}

// Packs rows [i0, i0+MR) x depth [p0, p0+kc) of op(A) as dst[k * MR + r], zero-padded.
void pack_a_sliver(const float* A, int64_t lda, bool t, int64_t M, int64_t i0, int64_t p0,
                   int64_t kc, float* dst) {
  const int64_t mr = std::min(MR, M - i0);
  if (t) {  // op(A)(i, k) = A[k][i]: rows of A hold the MR values contiguously
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = A + (p0 + k) * lda + i0;
      for (int64_t r = 0; r < MR; ++r) dst[k * MR + r] = r < mr ? src[r] : 0.0f;
    }
  } else {  // read each row of A with unit stride, scatter into the k-major sliver
    for (int64_t r = 0; r < MR; ++r) {
      if (r < mr) {
        const float* src = A + (i0 + r) * lda + p0;
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = 0.0f;
      }
    }
  }
}

// Packs depth [p0, p0+kc) x columns [j0, j0+NR) of op(B) as dst[k * NR + c], zero-padded.
void pack_b_sliver(const float* B, int64_t ldb, bool t, int64_t N, int64_t j0, int64_t p0,
                   int64_t kc, float* dst) {
  const int64_t nr = std::min(NR, N - j0);
  if (!t) {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + (p0 + k) * ldb + j0;
      float* d = dst + k * NR;
      if (nr == NR) {
        std::copy(src, src + NR, d);
      } else {
        for (int64_t c = 0; c < NR; ++c) d[c] = c < nr ? src[c] : 0.0f;
      }
    }
  } else {  // op(B)(k, j) = B[j][k]: read each row of B with unit stride
    for (int64_t c = 0; c < NR; ++c) {
      if (c < nr) {
        const float* src = B + (j0 + c) * ldb + p0;
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = 0.0f;
      }
    }
  }
}

#ifndef __AVX2__
// Portable micro-kernel: acc = Ap-sliver * Bp-sliver (MR x NR), then the write-back.
void kernel_scalar(int64_t kc, const float* Ap, const float* Bp, float* acc) {
  for (int64_t x = 0; x < MR * NR; ++x) acc[x] = 0.0f;
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t r = 0; r < MR; ++r) {
      const float a = Ap[k * MR + r];
      for (int64_t c = 0; c < NR; ++c) acc[r * NR + c] += a * Bp[k * NR + c];
    }
}
#endif

// C_tile = alpha * acc + beta * C_tile; beta == 0 overwrites (C may hold NaN).
void store_tile(const float* acc, int64_t mr, int64_t nr, float alpha, float beta, float* C,
                int64_t ldc) {
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < nr; ++c) {
      float v = alpha * acc[r * NR + c];
      C[r * ldc + c] = beta == 0.0f ? v : v + beta * C[r * ldc + c];
    }
}

#ifdef __AVX2__
// 6 x 16 AVX2/FMA micro-kernel writing a full tile straight into C.
void kernel_avx2_full(int64_t kc, const float* Ap, const float* Bp, float alpha, float beta,
                      float* C, int64_t ldc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // Ask for the C tile now so its six rows (often 4 KB apart) arrive during the k loop.
  for (int64_t r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 15), _MM_HINT_T0);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
    __m256 a = _mm256_broadcast_ss(Ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(Ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(Ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(Ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(Ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(Ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    Ap += MR;
    Bp += NR;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                        {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t r = 0; r < MR; ++r)
    for (int h = 0; h < 2; ++h) {
      float* p = C + r * ldc + h * 8;
      __m256 v = _mm256_mul_ps(va, rows[r][h]);
      if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(p), v);
      _mm256_storeu_ps(p, v);
    }
}

void kernel_avx2_acc(int64_t kc, const float* Ap, const float* Bp, float* acc) {
  for (int64_t x = 0; x < MR * NR; ++x) acc[x] = 0.0f;
  // Same arithmetic as the full kernel (fmadd per k), written to a tile buffer.
  __m256 c[MR][2];
  for (int64_t r = 0; r < MR; ++r) c[r][0] = c[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(Bp + k * NR), b1 = _mm256_loadu_ps(Bp + k * NR + 8);
    for (int64_t r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(Ap + k * MR + r);
      c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
    }
  }
  for (int64_t r = 0; r < MR; ++r) {
    _mm256_storeu_ps(acc + r * NR, c[r][0]);
    _mm256_storeu_ps(acc + r * NR + 8, c[r][1]);
  }
}
#endif

// One MR x NR tile of C from packed slivers; beta is the effective beta of this slice.
inline void micro_tile(int64_t kc, const float* Ap, const float* Bp, int64_t mr, int64_t nr,
                       float alpha, float beta, float* C, int64_t ldc) {
#ifdef __AVX2__
  if (mr == MR && nr == NR) {
    kernel_avx2_full(kc, Ap, Bp, alpha, beta, C, ldc);
    return;
  }
  alignas(32) float acc[MR * NR];
  kernel_avx2_acc(kc, Ap, Bp, acc);
#else
  float acc[MR * NR];
  kernel_scalar(kc, Ap, Bp, acc);
#endif
  store_tile(acc, mr, nr, alpha, beta, C, ldc);
}

// Small problems: packing and thread start-up cost more than they save. Row i of C is
// accumulated in float over k in order, i.e. a fixed order regardless of threads.
void gemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) {
  std::vector<float> row(static_cast<size_t>(N));
  for (int64_t i = 0; i < M; ++i) {
    std::fill(row.begin(), row.end(), 0.0f);
    for (int64_t k = 0; k < K; ++k) {
      const float a = op_a(A, lda, ta, i, k);
      if (!tb) {
        const float* b = B + k * ldb;
        for (int64_t j = 0; j < N; ++j) row[j] += a * b[j];
      } else {
        for (int64_t j = 0; j < N; ++j) row[j] += a * B[j * ldb + k];
      }
    }
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) {
      const float v = alpha * row[j];
      c[j] = beta == 0.0f ? v : v + beta * c[j];
    }
  }
}

// The Goto loops over one rectangular region C[i0:i1, j0:j1] (i0 a multiple of MR and
// j0 of NR, so the register tiles sit on the same global grid whatever the regions are).
// Packing buffers are thread-local and grow on demand: no shared mutable state.
void gemm_region(bool ta, bool tb, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t K,
                 float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float beta, float* C, int64_t ldc) {
  thread_local std::vector<float> Ap, Bp;
  // Equal-sized slices instead of KC, KC, ..., remainder: K = 288 runs as 144 + 144, not
  // 256 + 32 (a thin slice pays the C read/write for little work). The slicing depends
  // on K only, so it is the same for every thread and every region.
  const int64_t kc_max = ceil_div(K, ceil_div(K, KC));
  const int64_t mc_max = round_up(ceil_div(i1 - i0, ceil_div(i1 - i0, MC)), MR);
  const int64_t nc_max = std::min(j1 - j0, NC);
  const size_t a_need = static_cast<size_t>((mc_max + MR - 1) / MR * MR * kc_max);
  const size_t b_need = static_cast<size_t>((nc_max + NR - 1) / NR * NR * kc_max);
  if (Ap.size() < a_need) Ap.resize(a_need);
  if (Bp.size() < b_need) Bp.resize(b_need);
  float* ap = Ap.data();
  float* bp = Bp.data();
  for (int64_t jc = j0; jc < j1; jc += NC) {
    const int64_t nc = std::min(NC, j1 - jc);
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      // The first slice applies the caller's beta; later slices accumulate into C.
      const float beta_eff = pc == 0 ? beta : 1.0f;
      for (int64_t s = 0; s * NR < nc; ++s)
        pack_b_sliver(B, ldb, tb, j1, jc + s * NR, pc, kc, bp + s * NR * kc);
      for (int64_t ic = i0; ic < i1; ic += mc_max) {
        const int64_t mc = std::min(mc_max, i1 - ic);
        for (int64_t s = 0; s * MR < mc; ++s)
          pack_a_sliver(A, lda, ta, i1, ic + s * MR, pc, kc, ap + s * MR * kc);
        for (int64_t jr = 0; jr < nc; jr += NR) {  // Bp sliver stays in L1 ...
          const float* bsl = bp + (jr / NR) * NR * kc;
          const int64_t nr = std::min(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {  // ... while Ap's slivers stream from L2
            const float* asl = ap + (ir / MR) * MR * kc;
            const int64_t mr = std::min(MR, mc - ir);
            micro_tile(kc, asl, bsl, mr, nr, alpha, beta_eff, C + (ic + ir) * ldc + jc + jr,
                       ldc);
          }
        }
      }
    }
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // empty sum: C = beta * C, and beta == 0 clears (even NaN)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  const double work = static_cast<double>(M) * N * K;
  if (work < 32.0 * 32.0 * 32.0) {
    gemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Threads split C into independent regions along its longer side (rows in multiples of
  // MR, columns in multiples of NR). Each region runs the whole Goto loop nest with its
  // own packed copies, so there is no barrier inside: on a busy 2-core laptop a barrier
  // per KC slice costs more than the duplicated packing. Since tiles stay on the global
  // MR x NR grid and each element's k order is fixed, the split cannot change any bit.
  // Inside a caller's parallel region (e.g. a conv parallel over images) run on this
  // thread alone: a nested team would get one thread anyway.
  const int nt = work > 128.0 * 128.0 * 128.0 && !omp_in_parallel() ? omp_get_max_threads() : 1;
  const bool split_rows = M >= N;
  const int64_t unit = split_rows ? MR : NR;
  const int64_t units = ((split_rows ? M : N) + unit - 1) / unit;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(nt, units));
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(parts)) if (parts > 1)
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t u0 = units * p / parts, u1 = units * (p + 1) / parts;
    if (split_rows)
      gemm_region(trans_a, trans_b, u0 * MR, std::min(M, u1 * MR), 0, N, K, alpha, A, lda, B,
                  ldb, beta, C, ldc);
    else
      gemm_region(trans_a, trans_b, 0, M, u0 * NR, std::min(N, u1 * NR), K, alpha, A, lda, B,
                  ldb, beta, C, ldc);
  }
}

}  // namespace dl
