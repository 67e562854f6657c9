#include "detection/bbox_regression.h"

#include <cmath>
#include <stdexcept>

namespace dl {

namespace {
void check_sizes(int64_t n, int64_t dim, int64_t k, double lambda) {
  if (n < 0 || dim < 0 || k < 1 || !(lambda >= 0))
    throw std::invalid_argument("ridge_regression: bad sizes or negative lambda");
}
}  // namespace

std::vector<double> ridge_regression(const float* x, int64_t n, int64_t dim, const float* t,
                                     int64_t k, double lambda) {
  check_sizes(n, dim, k, lambda);
  const int64_t m = dim + 1;
  // A = X'X + lambda I' (upper triangle accumulated, then mirrored), R = X'T.
  std::vector<double> A(m * m, 0.0), R(m * k, 0.0), row(m);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t a = 0; a < dim; ++a) row[a] = x[i * dim + a];
    row[dim] = 1.0;
    for (int64_t a = 0; a < m; ++a) {
      const double ra = row[a];
      double* Aa = A.data() + a * m;
      for (int64_t b = a; b < m; ++b) Aa[b] += ra * row[b];
      for (int64_t c = 0; c < k; ++c) R[a * k + c] += ra * t[i * k + c];
    }
  }
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = 0; b < a; ++b) A[a * m + b] = A[b * m + a];
  for (int64_t a = 0; a < dim; ++a) A[a * m + a] += lambda;
  // Cholesky A = L L' (L overwrites the lower triangle).
  for (int64_t j = 0; j < m; ++j) {
    double d = A[j * m + j];
    for (int64_t p = 0; p < j; ++p) d -= A[j * m + p] * A[j * m + p];
    if (!(d > 0))
      throw std::invalid_argument(
          "ridge_regression: X'X + lambda I is not positive definite (lambda 0 and too few "
          "distinct samples?)");
    const double l = std::sqrt(d);
    A[j * m + j] = l;
    for (int64_t i = j + 1; i < m; ++i) {
      double s = A[i * m + j];
      for (int64_t p = 0; p < j; ++p) s -= A[i * m + p] * A[j * m + p];
      A[i * m + j] = s / l;
    }
  }
  // L y = R, then L' W = y, column by column.
  std::vector<double> W(m * k);
  for (int64_t c = 0; c < k; ++c) {
    std::vector<double> y(m);
    for (int64_t i = 0; i < m; ++i) {
      double s = R[i * k + c];
      for (int64_t p = 0; p < i; ++p) s -= A[i * m + p] * y[p];
      y[i] = s / A[i * m + i];
    }
    for (int64_t i = m - 1; i >= 0; --i) {
      double s = y[i];
      for (int64_t p = i + 1; p < m; ++p) s -= A[p * m + i] * W[p * k + c];
      W[i * k + c] = s / A[i * m + i];
    }
  }
  return W;
}

std::vector<double> ridge_regression_reference(const float* x, int64_t n, int64_t dim,
                                               const float* t, int64_t k, double lambda) {
  check_sizes(n, dim, k, lambda);
  const int64_t m = dim + 1;
  auto X = [&](int64_t i, int64_t a) { return a == dim ? 1.0 : double(x[i * dim + a]); };
  // Augmented matrix [X'X + lambda I' | X'T], m x (m + k).
  std::vector<std::vector<double>> M(m, std::vector<double>(m + k, 0.0));
  for (int64_t a = 0; a < m; ++a) {
    for (int64_t b = 0; b < m; ++b)
      for (int64_t i = 0; i < n; ++i) M[a][b] += X(i, a) * X(i, b);
    if (a < dim) M[a][a] += lambda;
    for (int64_t c = 0; c < k; ++c)
      for (int64_t i = 0; i < n; ++i) M[a][m + c] += X(i, a) * t[i * k + c];
  }
  for (int64_t col = 0; col < m; ++col) {
    int64_t piv = col;
    for (int64_t r = col + 1; r < m; ++r)
      if (std::abs(M[r][col]) > std::abs(M[piv][col])) piv = r;
    std::swap(M[col], M[piv]);
    if (M[col][col] == 0) throw std::invalid_argument("ridge_regression_reference: singular");
    for (int64_t r = 0; r < m; ++r) {
      if (r == col) continue;
      const double f = M[r][col] / M[col][col];
      for (int64_t c = col; c < m + k; ++c) M[r][c] -= f * M[col][c];
    }
  }
  std::vector<double> W(m * k);
  for (int64_t a = 0; a < m; ++a)
    for (int64_t c = 0; c < k; ++c) W[a * k + c] = M[a][m + c] / M[a][a];
  return W;
}

BoxDelta BoxRegressor::predict(const float* f) const {
  BoxDelta d{};
  for (int c = 0; c < 4; ++c) {
    double s = weights[dim * 4 + c];
    for (int64_t a = 0; a < dim; ++a) s += weights[a * 4 + c] * f[a];
    d[c] = static_cast<float>(s);
  }
  return d;
}

Box BoxRegressor::apply(const float* f, const Box& proposal) const {
  return decode_box(predict(f), proposal);
}

BoxRegressor train_box_regressor(const float* features, int64_t dim,
                                 const std::vector<Box>& proposals,
                                 const std::vector<Box>& ground_truth, double lambda) {
  if (proposals.size() != ground_truth.size())
    throw std::invalid_argument("train_box_regressor: proposals and ground truth differ in count");
  const int64_t n = static_cast<int64_t>(proposals.size());
  std::vector<float> t(n * 4);
  for (int64_t i = 0; i < n; ++i) {
    const BoxDelta d = encode_box(ground_truth[i], proposals[i]);  // appendix C's targets
    for (int c = 0; c < 4; ++c) t[i * 4 + c] = d[c];
  }
  BoxRegressor r;
  r.dim = dim;
  r.weights = ridge_regression(features, n, dim, t.data(), 4, lambda);
  return r;
}

}  // namespace dl
