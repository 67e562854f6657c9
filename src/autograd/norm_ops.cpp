// Batch normalisation (Ioffe & Szegedy 2015, Algorithm 1) over axis 1 of [N, C, ...].
// Every per-channel statistic is summed by one thread in a fixed order, so results
// are identical for any thread count.
#include <cmath>

#include "autograd/ops.h"

namespace dl::ag {

namespace {
constexpr int64_t kParallelMin = 1 << 15;
}  // namespace

Var batch_norm(const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean,
               Tensor& running_var, bool training, float momentum, float eps) {
  const char* op = "batch_norm";
  check_shape(x.defined() && x.dim() >= 2, op,
              "input must be [N, C] or [N, C, ...], got " +
                  (x.defined() ? x.value().shape_str() : std::string("undefined")));
  const Shape& s = x.shape();
  const int64_t N = s[0], C = s[1];
  int64_t HW = 1;
  for (size_t i = 2; i < s.size(); ++i) HW *= s[i];
  const int64_t M = N * HW;  // values per channel
  const Shape cshape{C};
  const bool affine_w = gamma.defined(), affine_b = beta.defined();
  if (affine_w)
    check_shape(gamma.shape() == cshape, op,
                "gamma " + gamma.value().shape_str() + " must be [" + std::to_string(C) + "]");
  if (affine_b)
    check_shape(beta.shape() == cshape, op,
                "beta " + beta.value().shape_str() + " must be [" + std::to_string(C) + "]");
  const bool track = running_mean.defined() && running_var.defined();
  if (track || !training)
    check_shape(running_mean.shape() == cshape && running_var.shape() == cshape, op,
                "running_mean " + running_mean.shape_str() + " and running_var " +
                    running_var.shape_str() + " must be [" + std::to_string(C) + "]");
  if (training)
    check_shape(M > 1, op,
                "training needs more than 1 value per channel, got input " + shape_str(s));

  const float* px = x.value().data();
  Tensor mean(cshape), invstd(cshape);
  if (training) {
    Tensor var(cshape);
    // Two passes in double: the mean first, then squared deviations (no cancellation).
#pragma omp parallel for schedule(static) if (x.value().numel() > kParallelMin)
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const float* p = px + (n * C + c) * HW;
        for (int64_t i = 0; i < HW; ++i) sum += p[i];
      }
      const double mu = sum / static_cast<double>(M);
      double sq = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const float* p = px + (n * C + c) * HW;
        for (int64_t i = 0; i < HW; ++i) sq += (p[i] - mu) * (p[i] - mu);
      }
      mean[c] = static_cast<float>(mu);
      var[c] = static_cast<float>(sq / static_cast<double>(M));
      invstd[c] = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(M) + eps));
    }
    if (track) {
      // Running statistics use the unbiased variance, as PyTorch does.
      const float unbias = static_cast<float>(M) / static_cast<float>(M - 1);
      for (int64_t c = 0; c < C; ++c) {
        running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean[c];
        running_var[c] = (1.0f - momentum) * running_var[c] + momentum * var[c] * unbias;
      }
    }
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = running_mean[c];
      invstd[c] = 1.0f / std::sqrt(running_var[c] + eps);
    }
  }

  // y = gamma * xhat + beta with xhat = (x - mean) * invstd.
  // Both written for every (n, c, i) below.
  Tensor xhat = Tensor::uninitialized(s), y = Tensor::uninitialized(s);
  const float* pg = affine_w ? gamma.value().data() : nullptr;
  const float* pb = affine_b ? beta.value().data() : nullptr;
#pragma omp parallel for collapse(2) schedule(static) if (x.value().numel() > kParallelMin)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t off = (n * C + c) * HW;
      const float g = pg ? pg[c] : 1.0f, b = pb ? pb[c] : 0.0f;
      for (int64_t i = 0; i < HW; ++i) {
        const float h = (px[off + i] - mean[c]) * invstd[c];
        xhat[off + i] = h;
        y[off + i] = g * h + b;
      }
    }

  std::vector<Var> inputs{x};
  if (affine_w) inputs.push_back(gamma);
  if (affine_b) inputs.push_back(beta);
  return make_result(y, op, inputs,
                     [xhat, invstd, training, affine_w, affine_b, N, C, HW, M](Node& n) {
    Node& nx = *n.inputs[0];
    const float* g = n.grad.data();
    const float* h = xhat.data();
    // Per-channel sums of dy and dy * xhat: the gradients of beta and gamma.
    Tensor dbeta({C}), dgamma({C});
#pragma omp parallel for schedule(static) if (xhat.numel() > kParallelMin)
    for (int64_t c = 0; c < C; ++c) {
      double sb = 0.0, sg = 0.0;
      for (int64_t k = 0; k < N; ++k) {
        const int64_t off = (k * C + c) * HW;
        for (int64_t i = 0; i < HW; ++i) {
          sb += g[off + i];
          sg += static_cast<double>(g[off + i]) * h[off + i];
        }
      }
      dbeta[c] = static_cast<float>(sb);
      dgamma[c] = static_cast<float>(sg);
    }
    if (nx.requires_grad) {
      const float* pgam = affine_w ? n.inputs[1]->value.data() : nullptr;
      Tensor dx = Tensor::uninitialized(nx.value.shape());  // written for every (k, c, i)
#pragma omp parallel for collapse(2) schedule(static) if (xhat.numel() > kParallelMin)
      for (int64_t k = 0; k < N; ++k)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t off = (k * C + c) * HW;
          const float scale = (pgam ? pgam[c] : 1.0f) * invstd[c];
          if (training) {
            // The batch statistics depend on x too (Ioffe & Szegedy 2015, sec. 3):
            // dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)).
            const float mb = dbeta[c] / static_cast<float>(M);
            const float mg = dgamma[c] / static_cast<float>(M);
            for (int64_t i = 0; i < HW; ++i)
              dx[off + i] = scale * (g[off + i] - mb - h[off + i] * mg);
          } else {
            for (int64_t i = 0; i < HW; ++i) dx[off + i] = scale * g[off + i];
          }
        }
      accumulate_grad(nx, std::move(dx));
    }
    int next = 1;
    if (affine_w) accumulate_grad(*n.inputs[next++], dgamma);
    if (affine_b) accumulate_grad(*n.inputs[next++], dbeta);
  });
}

}  // namespace dl::ag
