#include "autograd/gradcheck.h"

#include <cmath>

namespace dl {

GradcheckResult gradcheck(const std::function<Var(const std::vector<Var>&)>& f,
                          const std::vector<Var>& inputs, float eps, float atol, float rtol,
                          uint64_t seed) {
  GradcheckResult res;
  std::vector<Var> xs = inputs;
  for (Var& x : xs) x.zero_grad();
  Var out = f(xs);
  Rng rng(seed);
  Tensor r = uniform(out.shape(), -1.0f, 1.0f, rng);
  out.backward(r);

  auto weighted = [&](const std::vector<Var>& in) {
    NoGradGuard ng;
    Var o = f(in);
    double acc = 0.0;
    for (int64_t i = 0; i < o.value().numel(); ++i)
      acc += static_cast<double>(o.value()[i]) * r[i];
    return acc;
  };

  for (size_t k = 0; k < xs.size(); ++k) {
    if (!xs[k].requires_grad()) continue;
    Tensor analytic = xs[k].grad().defined() ? xs[k].grad() : zeros(xs[k].shape());
    Tensor& v = xs[k].value();
    for (int64_t i = 0; i < v.numel(); ++i) {
      const float saved = v[i];
      v[i] = saved + eps;
      double fp = weighted(xs);
      v[i] = saved - eps;
      double fm = weighted(xs);
      v[i] = saved;
      double numeric = (fp - fm) / (2.0 * eps);
      double err = std::fabs(analytic[i] - numeric);
      double rel = err / std::max(1.0, std::fabs(numeric));
      res.max_abs_err = std::max(res.max_abs_err, static_cast<float>(err));
      res.max_rel_err = std::max(res.max_rel_err, static_cast<float>(rel));
      if ((err > atol + rtol * std::fabs(numeric) || std::isnan(err)) && res.ok) {
        res.ok = false;
        res.detail = "input " + std::to_string(k) + " element " + std::to_string(i) +
                     ": analytic " + std::to_string(analytic[i]) + " vs numeric " +
                     std::to_string(numeric);
      }
    }
  }
  return res;
}

}  // namespace dl
