#include "nn/truncated_svd.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace dl::nn {

namespace {

using Mat = std::vector<double>;  // row-major

// Packs rows (singular values sigma with left vectors `left` [u, r] and right vectors
// `right` [v, r], all row-major) into an SvdResult sorted by descending sigma; ties
// keep their index order (stable sort), so the result is deterministic.
SvdResult pack(const std::vector<double>& sigma, const Mat& left, int64_t u, const Mat& right,
               int64_t v) {
  const int64_t r = static_cast<int64_t>(sigma.size());
  std::vector<int64_t> order(r);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return sigma[a] > sigma[b]; });
  SvdResult out{Tensor({u, r}), Tensor({r}), Tensor({v, r})};
  for (int64_t k = 0; k < r; ++k) {
    const int64_t s = order[k];
    out.S[k] = static_cast<float>(sigma[s]);
    for (int64_t i = 0; i < u; ++i) out.U[i * r + k] = static_cast<float>(left[i * r + s]);
    for (int64_t j = 0; j < v; ++j) out.V[j * r + k] = static_cast<float>(right[j * r + s]);
  }
  return out;
}

Mat to_double(const Tensor& W) { return Mat(W.begin(), W.end()); }

void check_matrix(const Tensor& W, const char* who) {
  if (W.dim() != 2 || W.size(0) < 1 || W.size(1) < 1)
    throw std::invalid_argument(std::string(who) + ": expected a non-empty 2-d matrix");
}

// One-sided Jacobi on the rows of A [m, n] with m <= n. Returns sigma [m], the left
// vectors [m, m] (row-major, column k is vector k) and the right vectors [n, m].
void jacobi_rows(Mat A, int64_t m, int64_t n, std::vector<double>& sigma, Mat& left,
                 Mat& right) {
  Mat Q(m * m, 0.0);  // accumulated rotations: Q A0 = A
  for (int64_t i = 0; i < m; ++i) Q[i * m + i] = 1.0;
  // Round-robin ("tournament") ordering: each round pairs every row with another one,
  // the pairs are disjoint, so a round's rotations commute and can run in parallel
  // with a result independent of the thread count.
  const int64_t p = m + (m % 2);  // players, one dummy when m is odd
  std::vector<int64_t> ring(p);
  std::iota(ring.begin(), ring.end(), 0);
  for (int sweep = 0; sweep < 60; ++sweep) {
    int64_t rotations = 0;
    for (int64_t round = 0; round + 1 < p || (p == 1 && round == 0); ++round) {
      if (p < 2) break;
#pragma omp parallel for schedule(static) reduction(+ : rotations)
      for (int64_t k = 0; k < p / 2; ++k) {
        int64_t i = ring[k], j = ring[p - 1 - k];
        if (i >= m || j >= m) continue;
        if (i > j) std::swap(i, j);
        double* ri = &A[i * n];
        double* rj = &A[j * n];
        double alpha = 0, beta = 0, gamma = 0;
        for (int64_t c = 0; c < n; ++c) {
          alpha += ri[c] * ri[c];
          beta += rj[c] * rj[c];
          gamma += ri[c] * rj[c];
        }
        if (std::abs(gamma) <= 1e-15 * std::sqrt(alpha * beta) || gamma == 0) continue;
        // The rotation that zeroes the pair's inner product (Golub & Van Loan, §8.6.3).
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(1 + zeta * zeta));
        const double cs = 1 / std::sqrt(1 + t * t), sn = cs * t;
        for (int64_t c = 0; c < n; ++c) {
          const double a = ri[c], b = rj[c];
          ri[c] = cs * a - sn * b;
          rj[c] = sn * a + cs * b;
        }
        double* qi = &Q[i * m];
        double* qj = &Q[j * m];
        for (int64_t c = 0; c < m; ++c) {
          const double a = qi[c], b = qj[c];
          qi[c] = cs * a - sn * b;
          qj[c] = sn * a + cs * b;
        }
        ++rotations;
      }
      std::rotate(ring.begin() + 1, ring.end() - 1, ring.end());  // player 0 stays
    }
    if (rotations == 0) break;
  }
  // Q A0 = B (orthogonal rows) => A0 = Q^T B: left vector k is row k of Q, sigma_k =
  // |B_k|, right vector k = B_k / sigma_k.
  sigma.assign(m, 0.0);
  left.assign(m * m, 0.0);
  right.assign(n * m, 0.0);
  for (int64_t k = 0; k < m; ++k) {
    double norm = 0;
    for (int64_t c = 0; c < n; ++c) norm += A[k * n + c] * A[k * n + c];
    norm = std::sqrt(norm);
    sigma[k] = norm;
    for (int64_t i = 0; i < m; ++i) left[i * m + k] = Q[k * m + i];
    if (norm > 0)
      for (int64_t c = 0; c < n; ++c) right[c * m + k] = A[k * n + c] / norm;
  }
}

Mat transpose(const Mat& A, int64_t m, int64_t n) {
  Mat T(n * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) T[j * m + i] = A[i * n + j];
  return T;
}

// Symmetric eigen-decomposition by cyclic Jacobi: returns eigenvalues and the
// eigenvectors as the columns of a row-major [n, n] matrix.
void jacobi_eigen(Mat S, int64_t n, std::vector<double>& eig, Mat& vec) {
  vec.assign(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) vec[i * n + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        total += S[i * n + j] * S[i * n + j];
        if (i != j) off += S[i * n + j] * S[i * n + j];
      }
    if (off <= 1e-30 * total || off == 0) break;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = S[p * n + q];
        if (apq == 0) continue;
        const double theta = (S[q * n + q] - S[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // S <- S J (columns p, q)
          const double a = S[k * n + p], b = S[k * n + q];
          S[k * n + p] = c * a - s * b;
          S[k * n + q] = s * a + c * b;
        }
        for (int64_t k = 0; k < n; ++k) {  // S <- J^T S (rows p, q)
          const double a = S[p * n + k], b = S[q * n + k];
          S[p * n + k] = c * a - s * b;
          S[q * n + k] = s * a + c * b;
        }
        for (int64_t k = 0; k < n; ++k) {  // V <- V J
          const double a = vec[k * n + p], b = vec[k * n + q];
          vec[k * n + p] = c * a - s * b;
          vec[k * n + q] = s * a + c * b;
        }
      }
  }
  eig.resize(n);
  for (int64_t i = 0; i < n; ++i) eig[i] = S[i * n + i];
}

}  // namespace

SvdResult svd_jacobi(const Tensor& W) {
  check_matrix(W, "svd_jacobi");
  const int64_t u = W.size(0), v = W.size(1);
  std::vector<double> sigma;
  Mat left, right;
  if (u <= v) {
    jacobi_rows(to_double(W), u, v, sigma, left, right);
    return pack(sigma, left, u, right, v);
  }
  // W^T = L S R^T  =>  W = R S L^T.
  jacobi_rows(transpose(to_double(W), u, v), v, u, sigma, left, right);
  return pack(sigma, right, u, left, v);
}

SvdResult svd_reference(const Tensor& W) {
  check_matrix(W, "svd_reference");
  const int64_t u = W.size(0), v = W.size(1);
  const Mat A = to_double(W);
  const bool rows = u <= v;  // decompose the smaller Gram matrix
  const int64_t r = rows ? u : v;
  Mat G(r * r, 0.0);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < r; ++j) {
      double s = 0;
      if (rows)
        for (int64_t c = 0; c < v; ++c) s += A[i * v + c] * A[j * v + c];  // W W^T
      else
        for (int64_t c = 0; c < u; ++c) s += A[c * v + i] * A[c * v + j];  // W^T W
      G[i * r + j] = s;
    }
  std::vector<double> eig;
  Mat E;
  jacobi_eigen(G, r, eig, E);
  std::vector<double> sigma(r);
  Mat other((rows ? v : u) * r, 0.0);
  for (int64_t k = 0; k < r; ++k) {
    sigma[k] = std::sqrt(std::max(0.0, eig[k]));
    if (sigma[k] == 0) continue;
    if (rows)  // V_k = W^T U_k / sigma_k
      for (int64_t c = 0; c < v; ++c) {
        double s = 0;
        for (int64_t i = 0; i < u; ++i) s += A[i * v + c] * E[i * r + k];
        other[c * r + k] = s / sigma[k];
      }
    else  // U_k = W V_k / sigma_k
      for (int64_t i = 0; i < u; ++i) {
        double s = 0;
        for (int64_t c = 0; c < v; ++c) s += A[i * v + c] * E[c * r + k];
        other[i * r + k] = s / sigma[k];
      }
  }
  return rows ? pack(sigma, E, u, other, v) : pack(sigma, other, u, E, v);
}

Tensor svd_reconstruct(const SvdResult& svd, int t) {
  const int64_t u = svd.U.size(0), v = svd.V.size(0), r = svd.S.size(0);
  if (t < 1 || t > r) throw std::invalid_argument("svd_reconstruct: rank out of range");
  Tensor W({u, v});
  for (int64_t i = 0; i < u; ++i)
    for (int64_t j = 0; j < v; ++j) {
      double s = 0;
      for (int64_t k = 0; k < t; ++k)
        s += double(svd.U[i * r + k]) * svd.S[k] * svd.V[j * r + k];
      W[i * v + j] = static_cast<float>(s);
    }
  return W;
}

std::shared_ptr<Sequential> truncated_svd_linear(const Linear& layer, int t) {
  const Tensor& W = layer.weight.value();
  const int64_t out = W.size(0), in = W.size(1);
  if (t < 1 || t > std::min(out, in))
    throw std::invalid_argument("truncated SVD: rank " + std::to_string(t) + " outside [1, " +
                                std::to_string(std::min(out, in)) + "]");
  const SvdResult svd = svd_jacobi(W);
  const int64_t r = svd.S.size(0);
  Rng rng(0);  // the initial weights are overwritten below
  auto first = std::make_shared<Linear>(static_cast<int>(in), t, rng, false);
  auto second = std::make_shared<Linear>(t, static_cast<int>(out), rng, layer.bias.defined());
  Tensor& A = first->weight.value();   // [t, in] = Sigma_t V_t^T
  Tensor& B = second->weight.value();  // [out, t] = U_t
  for (int64_t k = 0; k < t; ++k)
    for (int64_t j = 0; j < in; ++j) A[k * in + j] = svd.S[k] * svd.V[j * r + k];
  for (int64_t i = 0; i < out; ++i)
    for (int64_t k = 0; k < t; ++k) B[i * t + k] = svd.U[i * r + k];
  if (layer.bias.defined())
    std::copy(layer.bias.value().begin(), layer.bias.value().end(), second->bias.value().begin());
  auto seq = std::make_shared<Sequential>();
  seq->add(first);
  seq->add(second);
  return seq;
}

}  // namespace dl::nn
