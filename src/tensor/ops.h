// Tensor operations without gradients: creation, broadcasting elementwise math,
// reductions, shape manipulation, indexing and matmul. The autograd layer
// (src/autograd/) wraps these with backward passes.
#pragma once
#include <vector>

#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace dl {

// ---- creation ----------------------------------------------------------------
Tensor zeros(const Shape& s);
Tensor ones(const Shape& s);
Tensor full(const Shape& s, float v);
Tensor arange(int64_t n);                                   // 0, 1, ..., n-1
Tensor arange(float start, float stop, float step);
Tensor uniform(const Shape& s, float lo, float hi, Rng& rng);
Tensor normal(const Shape& s, float mean, float stddev, Rng& rng);
Tensor zeros_like(const Tensor& t);

// ---- broadcasting ------------------------------------------------------------
// NumPy rules: shapes are right-aligned; each pair of sizes must match or be 1.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
Tensor broadcast_to(const Tensor& t, const Shape& s);
// Sums a broadcast result back down to `s` (the backward of broadcasting).
Tensor sum_to(const Tensor& t, const Shape& s);

// ---- elementwise ---------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor pow(const Tensor& a, float p);
Tensor clamp(const Tensor& a, float lo, float hi);
// Comparisons give 1.0f where true, 0.0f where false.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond != 0 ? a : b
// In-place helpers for optimizers and accumulation: a += alpha * b (same shape).
void axpy_(Tensor& a, float alpha, const Tensor& b);
void scale_(Tensor& a, float s);

// ---- reductions (each output element is summed in a fixed order) ----------------
Tensor sum(const Tensor& a, const std::vector<int>& axes, bool keepdim = false);
Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdim = false);
Tensor max(const Tensor& a, int axis, bool keepdim = false);
Tensor min(const Tensor& a, int axis, bool keepdim = false);
Tensor argmax(const Tensor& a, int axis, bool keepdim = false);  // first max wins ties
float sum_all(const Tensor& a);                                  // double accumulator
float max_abs_diff(const Tensor& a, const Tensor& b);

// ---- shape -------------------------------------------------------------------
Tensor permute(const Tensor& a, const std::vector<int>& perm);
Tensor transpose(const Tensor& a, int ax0, int ax1);
// Elements start, start+step, ... < end along `axis` (a copy).
Tensor slice(const Tensor& a, int axis, int64_t start, int64_t end, int64_t step = 1);
Tensor concat(const std::vector<Tensor>& ts, int axis);
Tensor stack(const std::vector<Tensor>& ts, int axis);
// Writes `src` into the slice [start, start + src.size(axis)) of `dst` along axis.
void slice_assign_(Tensor& dst, int axis, int64_t start, const Tensor& src);
Tensor pad2d(const Tensor& a, int top, int bottom, int left, int right, float value = 0.0f);

// ---- indexing ----------------------------------------------------------------
// Indices are stored as floats holding exact integers (fine below 2^24).
Tensor index_select(const Tensor& a, int axis, const Tensor& index);
// out[i][j][k] = a[i][index[i][j][k]][k] for axis 1 (torch.gather semantics).
Tensor gather(const Tensor& a, int axis, const Tensor& index);
// The backward of gather: out (zeros shaped like `shape`) += src at index.
Tensor scatter_add(const Shape& shape, int axis, const Tensor& index, const Tensor& src);
Tensor index_add(const Shape& shape, int axis, const Tensor& index, const Tensor& src);

// ---- linear algebra ------------------------------------------------------------
// [M,K] x [K,N] -> [M,N]; the trans flags use a's/b's transpose without copying.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// [B,M,K] x [B,K,N] -> [B,M,N] (b may also be [K,N], shared by every batch).
Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace dl
