#include "nn/linear_svm.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "tensor/rng.h"

namespace dl {

float LinearSvm::score(const float* x) const {
  double s = b;
  for (size_t d = 0; d < w.size(); ++d) s += double(w[d]) * x[d];
  return static_cast<float>(s);
}

HingeLossResult svm_hinge_loss(const float* x, int64_t n, int64_t dim, const std::vector<float>& y,
                               const std::vector<float>& s, const std::vector<float>& w, float b,
                               double C, float bias_feature) {
  if (static_cast<int64_t>(y.size()) != n || static_cast<int64_t>(w.size()) != dim ||
      (!s.empty() && static_cast<int64_t>(s.size()) != n) || bias_feature <= 0)
    throw std::invalid_argument("svm_hinge_loss: sizes of x, y, s, w disagree");
  HingeLossResult r;
  r.grad_w.assign(dim, 0.0);
  double reg = double(b) * b / (double(bias_feature) * bias_feature);
  for (int64_t d = 0; d < dim; ++d) reg += double(w[d]) * w[d], r.grad_w[d] = w[d];
  r.value = 0.5 * reg;
  r.grad_b = double(b) / (double(bias_feature) * bias_feature);
  for (int64_t i = 0; i < n; ++i) {
    double f = b;
    for (int64_t d = 0; d < dim; ++d) f += double(w[d]) * x[i * dim + d];
    const double margin = 1.0 - y[i] * f;
    if (margin <= 0) continue;  // outside the margin (or on it): no loss, no gradient
    const double cs = C * (s.empty() ? 1.0 : s[i]);
    r.value += cs * margin;
    for (int64_t d = 0; d < dim; ++d) r.grad_w[d] -= cs * y[i] * x[i * dim + d];
    r.grad_b -= cs * y[i];
  }
  return r;
}

LinearSvm train_linear_svm(const float* x, int64_t n, int64_t dim, const std::vector<float>& y,
                           const SvmSolverOptions& o) {
  if (static_cast<int64_t>(y.size()) != n) throw std::invalid_argument("train_linear_svm: y size");
  // Dual coordinate descent (Hsieh et al. 2008, Algorithm 1) on the bias-augmented
  // rows x^_i = (x_i, B): min_a 1/2 a'Qa - sum a, 0 <= a_i <= U_i = C s_i,
  // Q_ij = y_i y_j x^_i.x^_j, with w^ = sum a_i y_i x^_i kept up to date.
  const double B = o.bias_feature;
  std::vector<double> w(dim + 1, 0.0), alpha(n, 0.0), qd(n), upper(n);
  for (int64_t i = 0; i < n; ++i) {
    double q = B * B;
    for (int64_t d = 0; d < dim; ++d) q += double(x[i * dim + d]) * x[i * dim + d];
    qd[i] = q;
    upper[i] = o.C * (y[i] > 0 ? o.pos_weight : 1.0);
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(o.seed);
  for (int pass = 0; pass < o.max_passes; ++pass) {
    for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates with dl::Rng
      std::swap(order[i], order[rng.randint(0, i + 1)]);
    double pg_max = -INFINITY, pg_min = INFINITY;
    for (int64_t i : order) {
      const float* xi = x + i * dim;
      double f = w[dim] * B;
      for (int64_t d = 0; d < dim; ++d) f += w[d] * xi[d];
      const double G = y[i] * f - 1.0;
      double PG = G;  // the gradient projected on the box constraint
      if (alpha[i] == 0) PG = std::min(G, 0.0);
      else if (alpha[i] == upper[i]) PG = std::max(G, 0.0);
      pg_max = std::max(pg_max, PG);
      pg_min = std::min(pg_min, PG);
      if (std::abs(PG) < 1e-12 || qd[i] <= 0) continue;
      const double old = alpha[i];
      alpha[i] = std::min(std::max(old - G / qd[i], 0.0), upper[i]);
      const double step = (alpha[i] - old) * y[i];
      for (int64_t d = 0; d < dim; ++d) w[d] += step * xi[d];
      w[dim] += step * B;
    }
    if (pg_max - pg_min <= o.tolerance) break;
  }
  LinearSvm svm;
  svm.w.resize(dim);
  for (int64_t d = 0; d < dim; ++d) svm.w[d] = static_cast<float>(w[d]);
  svm.b = static_cast<float>(w[dim] * B);
  return svm;
}

LinearSvm train_svm_hard_negatives(const float* positives, int64_t P, const float* negatives,
                                   int64_t N, int64_t dim, const HardNegativeOptions& o,
                                   std::vector<HardNegativeLog>* log) {
  // First cache: negatives spread evenly over the pool (a deterministic subsample).
  std::vector<int64_t> cache;
  const int64_t first = std::min(N, std::max<int64_t>(1, o.initial_cache));
  for (int64_t k = 0; k < first && N > 0; ++k) cache.push_back(k * N / first);
  std::vector<char> in_cache(N, 0);
  for (int64_t i : cache) in_cache[i] = 1;
  std::vector<float> scores(N);
  LinearSvm svm;
  for (int round = 0; round <= o.rounds; ++round) {
    // Train on positives + cache.
    const int64_t n = P + static_cast<int64_t>(cache.size());
    std::vector<float> x(n * dim), y(n);
    std::copy_n(positives, P * dim, x.begin());
    std::fill_n(y.begin(), P, 1.0f);
    for (size_t k = 0; k < cache.size(); ++k) {
      std::copy_n(negatives + cache[k] * dim, dim, x.begin() + (P + k) * dim);
      y[P + k] = -1.0f;
    }
    svm = train_linear_svm(x.data(), n, dim, y, o.solver);
    HardNegativeLog entry;
    entry.round = round;
    entry.cache_size = static_cast<int64_t>(cache.size());
    std::vector<float> weights(n, 1.0f);
    std::fill_n(weights.begin(), P, o.solver.pos_weight);
    entry.objective = svm_hinge_loss(x.data(), n, dim, y, weights, svm.w, svm.b, o.solver.C,
                                     o.solver.bias_feature)
                          .value;
    // Scan the whole pool (each score written by its own index: thread-independent).
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; ++i) scores[i] = svm.score(negatives + i * dim);
    std::vector<int64_t> hard;
    for (int64_t i = 0; i < N; ++i)
      if (scores[i] > o.hard_threshold) {
        entry.hard_found++;
        if (!in_cache[i]) hard.push_back(i);
      }
    // Evict the easy ones, then add the new hard ones (hardest first if the cache is full).
    std::vector<int64_t> kept;
    for (int64_t i : cache)
      if (scores[i] < o.easy_threshold) in_cache[i] = 0, entry.evicted++;
      else kept.push_back(i);
    std::stable_sort(hard.begin(), hard.end(),
                     [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
    const int64_t room = std::max<int64_t>(0, o.max_cache - static_cast<int64_t>(kept.size()));
    if (static_cast<int64_t>(hard.size()) > room) hard.resize(room);
    for (int64_t i : hard) kept.push_back(i), in_cache[i] = 1;
    entry.added = static_cast<int64_t>(hard.size());
    std::sort(kept.begin(), kept.end());  // a canonical order: the solver permutes anyway
    cache = std::move(kept);
    if (log) log->push_back(entry);
    if (entry.added == 0) break;  // every violator is already trained on
  }
  return svm;
}

}  // namespace dl
