// bench_gemm: GFLOP/s of detlab's packed gemm() vs the naive reference and OpenBLAS
// (when built with DETLAB_HAVE_CBLAS) for square n x n problems at 1 and 2 threads.
// Usage: bench_gemm [--json]. Each figure is the best of several runs.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tensor/gemm.h"
#include "tensor/rng.h"
#include "util/timing.h"

#ifdef DETLAB_HAVE_CBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace {

// Best wall time in seconds of `reps` calls (after one warm-up call). The pause first
// lets the other library's worker threads, which spin for a while after each call, go
// to sleep so they do not steal a core from this measurement.
double best_seconds(const std::function<void()>& f, int reps) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  f();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = dl::Clock::now();
    f();
    best = std::min(best, dl::seconds_since(t0));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  nlohmann::json out = nlohmann::json::array();
  if (!json)
    std::printf("%6s %4s %12s %12s %12s %10s\n", "n", "thr", "detlab", "naive", "openblas",
                "ratio");
  for (int64_t n : {128, 256, 512, 1024}) {
    dl::Rng rng(42);
    std::vector<float> A(n * n), B(n * n), C(n * n);
    for (auto& x : A) x = rng.uniform(-1.0f, 1.0f);
    for (auto& x : B) x = rng.uniform(-1.0f, 1.0f);
    const double flops = 2.0 * n * n * n;
    const int reps = n <= 256 ? 20 : (n <= 512 ? 8 : 4);
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const double t_dl = best_seconds(
          [&] { dl::gemm(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n); },
          reps);
      double t_naive = 0.0;
      if (n <= 512)
        t_naive = best_seconds(
            [&] {
              dl::gemm_reference(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f,
                                 C.data(), n);
            },
            1);
      double t_blas = 0.0;
#ifdef DETLAB_HAVE_CBLAS
      openblas_set_num_threads(threads);
      t_blas = best_seconds(
          [&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A.data(), n,
                        B.data(), n, 0.0f, C.data(), n);
          },
          reps);
#endif
      const double g_dl = flops / t_dl * 1e-9;
      const double g_naive = t_naive > 0 ? flops / t_naive * 1e-9 : 0.0;
      const double g_blas = t_blas > 0 ? flops / t_blas * 1e-9 : 0.0;
      const double ratio = g_blas > 0 ? g_dl / g_blas : 0.0;
      if (json) {
        nlohmann::json row = {{"n", n}, {"threads", threads}, {"detlab_gflops", g_dl}};
        row["naive_gflops"] = g_naive > 0 ? nlohmann::json(g_naive) : nlohmann::json(nullptr);
        row["openblas_gflops"] = g_blas > 0 ? nlohmann::json(g_blas) : nlohmann::json(nullptr);
        row["ratio_detlab_openblas"] = g_blas > 0 ? nlohmann::json(ratio) : nlohmann::json(nullptr);
        out.push_back(row);
      } else {
        char naive_s[32] = "-", blas_s[32] = "-", ratio_s[32] = "-";
        if (g_naive > 0) std::snprintf(naive_s, sizeof naive_s, "%.2f", g_naive);
        if (g_blas > 0) std::snprintf(blas_s, sizeof blas_s, "%.2f", g_blas);
        if (g_blas > 0) std::snprintf(ratio_s, sizeof ratio_s, "%.2fx", ratio);
        std::printf("%6lld %4d %12.2f %12s %12s %10s\n", static_cast<long long>(n), threads,
                    g_dl, naive_s, blas_s, ratio_s);
      }
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  else std::printf("(GFLOP/s, best of several runs; ratio = detlab / OpenBLAS)\n");
  return 0;
}
