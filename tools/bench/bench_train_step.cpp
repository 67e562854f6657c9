// bench_train_step: one SGD training step of the reference backbone, timed.
//   4 x [conv3x3 pad 1 + ReLU + maxpool 2], channels 3 -> 32 -> 64 -> 128 -> 128,
//   Linear 8192 -> 10, cross-entropy, SGD momentum 0.9; batch 32 of 3 x 128 x 128; 2 threads.
// tools/bench/torch_train_step.py is the same model in PyTorch with the same timing.
// Prints the median ms per step (after warm-up) and effective GFLOP/s, counting
// forward + backward as 3 x the forward multiply-adds x 2 of the convs and the linear.
// Also prints the median time of the forward, backward and update phases.
// Usage: bench_train_step [--json] [--steps N] [--threads T]   (T defaults to 2)
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "autograd/ops.h"
#include "autograd/variable.h"
#include "tensor/rng.h"
#include "util/timing.h"

using namespace dl;
using namespace dl::ag;

namespace {

double ms_since(Clock::time_point t0) { return 1e3 * seconds_since(t0); }

// Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default range for conv/linear.
Var make_param(const Shape& shape, int64_t fan_in, Rng& rng) {
  Tensor t(shape);
  const float b = 1.0f / std::sqrt(static_cast<float>(fan_in));
  for (float& x : t) x = rng.uniform(-b, b);
  return Var(t, true);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int steps = 10, threads = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    else if (std::strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = std::max(1, std::atoi(argv[++i]));
  }
  omp_set_num_threads(threads);
  const int64_t batch = 32, H = 128, W = 128, classes = 10;
  const int64_t chans[5] = {3, 32, 64, 128, 128};

  Rng rng(1234);
  std::vector<Var> conv_w, conv_b;
  for (int l = 0; l < 4; ++l) {
    const int64_t fan_in = chans[l] * 9;
    conv_w.push_back(make_param({chans[l + 1], chans[l], 3, 3}, fan_in, rng));
    conv_b.push_back(make_param({chans[l + 1]}, fan_in, rng));
  }
  const int64_t feat = chans[4] * (H / 16) * (W / 16);  // 128 * 8 * 8 = 8192
  Var fc_w = make_param({classes, feat}, feat, rng);
  Var fc_b = make_param({classes}, feat, rng);
  std::vector<Var> params = conv_w;
  params.insert(params.end(), conv_b.begin(), conv_b.end());
  params.push_back(fc_w);
  params.push_back(fc_b);
  std::vector<Tensor> momentum(params.size());

  Tensor images({batch, chans[0], H, W});
  for (float& x : images) x = rng.uniform(-1.0f, 1.0f);
  Tensor labels({batch});
  for (int64_t i = 0; i < batch; ++i) labels[i] = static_cast<float>(i % classes);

  Conv2dOptions conv_opt;
  conv_opt.pad_h = conv_opt.pad_w = 1;
  Pool2dOptions pool_opt;  // 2 x 2, stride 2
  const float lr = 0.01f, mu = 0.9f;

  double fwd_ms = 0, bwd_ms = 0, upd_ms = 0;
  float loss_value = 0;
  auto step = [&]() {
    auto t0 = Clock::now();
    Var x(images);
    for (int l = 0; l < 4; ++l)
      x = max_pool2d(relu(conv2d(x, conv_w[l], conv_b[l], conv_opt)), pool_opt);
    Var logits = linear(flatten(x, 1), fc_w, fc_b);
    Var loss = cross_entropy(logits, labels);
    fwd_ms = ms_since(t0);
    t0 = Clock::now();
    loss.backward();
    bwd_ms = ms_since(t0);
    t0 = Clock::now();
    // torch.optim.SGD with momentum (dampening 0): buf = mu * buf + g (buf = g at the
    // first step), p -= lr * buf.
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor& p = params[i].value();
      const Tensor& g = params[i].grad();
      if (momentum[i].numel() == 0) {
        momentum[i] = Tensor(g.shape());
        std::copy(g.begin(), g.end(), momentum[i].begin());
      } else {
        float* b = momentum[i].data();
        const float* gd = g.data();
        for (int64_t k = 0; k < g.numel(); ++k) b[k] = mu * b[k] + gd[k];
      }
      float* pd = p.data();
      const float* b = momentum[i].data();
      for (int64_t k = 0; k < p.numel(); ++k) pd[k] -= lr * b[k];
      params[i].zero_grad();
    }
    upd_ms = ms_since(t0);
    loss_value = loss.item();
  };

  for (int w = 0; w < 2; ++w) step();  // warm-up: allocations, page faults, caches
  std::vector<double> total, fwd, bwd, upd;
  for (int s = 0; s < steps; ++s) {
    const auto t0 = Clock::now();
    step();
    total.push_back(ms_since(t0));
    fwd.push_back(fwd_ms);
    bwd.push_back(bwd_ms);
    upd.push_back(upd_ms);
  }

  // Forward multiply-adds: each conv is Cout*Cin*9 per output pixel; the linear feat*10.
  double macs = 0;
  for (int l = 0; l < 4; ++l) {
    const double hw = static_cast<double>(H >> l) * (W >> l);
    macs += static_cast<double>(batch) * chans[l + 1] * chans[l] * 9 * hw;
  }
  macs += static_cast<double>(batch) * feat * classes;
  const double gflop_per_step = 3.0 * 2.0 * macs * 1e-9;
  const double ms = median(total);
  const double gflops = gflop_per_step / (ms * 1e-3);

  if (json) {
    nlohmann::json j = {{"engine", "detlab"},        {"threads", threads},
                        {"batch", batch},            {"steps", steps},
                        {"median_ms", ms},           {"gflops", gflops},
                        {"gflop_per_step", gflop_per_step},
                        {"forward_ms", median(fwd)}, {"backward_ms", median(bwd)},
                        {"update_ms", median(upd)},  {"final_loss", loss_value}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("detlab train step (batch %lld, 3x%lldx%lld, %d threads, %d steps)\n",
                static_cast<long long>(batch), static_cast<long long>(H),
                static_cast<long long>(W), threads, steps);
    std::printf("  median %.1f ms/step  (forward %.1f, backward %.1f, update %.1f)\n", ms,
                median(fwd), median(bwd), median(upd));
    std::printf("  %.2f GFLOP/step -> %.1f GFLOP/s effective   (final loss %.4f)\n",
                gflop_per_step, gflops, loss_value);
  }
  return 0;
}
