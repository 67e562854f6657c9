// Same seed -> bit-identical results for any OpenMP thread count (DESIGN.md, "Rules
// that keep it trustworthy"). Each case runs the same computation with 1 and then 2
// threads and compares the bytes. The tensors are larger than the kernels'
// parallel threshold (1 << 15 elements), so the OpenMP loops really split the work.
#include <omp.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>

#include "autograd/ops.h"

using namespace dl;

namespace {

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

// Runs f with the given thread count, restoring the previous one afterwards.
template <class F>
auto with_threads(int n, F f) {
  const int previous = omp_get_max_threads();
  omp_set_num_threads(n);
  auto r = f();
  omp_set_num_threads(previous);
  return r;
}

struct TrainResult {
  std::vector<Tensor> weights;
  std::vector<float> losses;
};

// conv -> batch norm -> relu -> max pool -> flatten -> dropout -> linear ->
// cross-entropy, trained for a few steps of SGD with momentum on seeded random data.
TrainResult train_small_cnn() {
  Rng rng(2024);
  const int64_t N = 16, Cin = 3, H = 32, W = 32, Cout = 16, classes = 10;
  Tensor images = normal({N, Cin, H, W}, 0.0f, 1.0f, rng);
  Tensor labels({N});
  for (int64_t i = 0; i < N; ++i) labels[i] = static_cast<float>(rng.below(classes));

  const int64_t feat = Cout * (H / 2) * (W / 2);
  Var conv_w(normal({Cout, Cin, 3, 3}, 0.0f, 0.2f, rng), true);
  Var conv_b(zeros({Cout}), true);
  Var bn_g(ones({Cout}), true), bn_b(zeros({Cout}), true);
  Tensor bn_mean = zeros({Cout}), bn_var = ones({Cout});
  Var fc_w(normal({classes, feat}, 0.0f, 0.01f, rng), true);
  Var fc_b(zeros({classes}), true);
  std::vector<Var> params{conv_w, conv_b, bn_g, bn_b, fc_w, fc_b};
  std::vector<Tensor> velocity;
  for (const Var& p : params) velocity.push_back(zeros(p.shape()));

  ag::Conv2dOptions conv_opt;
  conv_opt.pad_h = conv_opt.pad_w = 1;
  ag::Pool2dOptions pool_opt;  // 2x2, stride 2
  const float lr = 0.002f, momentum = 0.9f;
  TrainResult res;
  for (int step = 0; step < 5; ++step) {
    Rng drop_rng(100 + step);
    Var h = ag::conv2d(Var(images), conv_w, conv_b, conv_opt);
    h = ag::relu(ag::batch_norm(h, bn_g, bn_b, bn_mean, bn_var, true));
    h = ag::flatten(ag::max_pool2d(h, pool_opt));
    h = ag::dropout(h, 0.2f, true, drop_rng);
    Var loss = ag::cross_entropy(ag::linear(h, fc_w, fc_b), labels);
    for (Var& p : params) p.zero_grad();
    loss.backward();
    // SGD with momentum (PyTorch's form): v = mu v + g; w -= lr v.
    for (size_t k = 0; k < params.size(); ++k) {
      scale_(velocity[k], momentum);
      axpy_(velocity[k], 1.0f, params[k].grad());
      axpy_(params[k].value(), -lr, velocity[k]);
    }
    res.losses.push_back(loss.item());
  }
  for (const Var& p : params) res.weights.push_back(p.value().clone());
  res.weights.push_back(bn_mean.clone());
  res.weights.push_back(bn_var.clone());
  return res;
}

// A composite of the big elementwise, broadcasting, reduction, softmax and matmul
// paths; returns every output and every input gradient.
std::vector<Tensor> big_ops() {
  Rng rng(77);
  const int64_t R = 256, C = 512;  // 131072 elements
  Var a(normal({R, C}, 0.0f, 1.0f, rng), true);
  Var b(normal({R, C}, 0.0f, 1.0f, rng), true);
  Var row(normal({C}, 0.0f, 1.0f, rng), true);
  Var col(uniform({R, 1}, 0.5f, 2.0f, rng), true);
  Var m(normal({C, R}, 0.0f, 0.1f, rng), true);

  Var e = ag::div(ag::add(ag::mul(a, b), row), col);           // broadcasting both ways
  Var f = ag::sqrt(ag::add(ag::exp(ag::mul(ag::tanh(e), 0.5f)), 1.0f));
  Var g = ag::log_softmax(ag::add(f, ag::softmax(a, 0)), 1);
  Var s = ag::sum(ag::pow(g, 2.0f), {0});
  Var mx = ag::max(ag::sigmoid(e), 1);
  Var mm = ag::matmul(ag::relu(e), m);                          // [R, R]
  Var t = ag::mean(ag::permute(ag::reshape(a, {R, 8, C / 8}), {2, 0, 1}), {1});
  Var total = ag::add(ag::add(ag::mean_all(s), ag::sum_all(mx)),
                      ag::add(ag::mean_all(mm), ag::mean_all(t)));
  total.backward();
  return {e.value(), f.value(), g.value(), s.value(), mx.value(), mm.value(), t.value(),
          total.value(), a.grad(), b.grad(), row.grad(), col.grad(), m.grad()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(determinism)

BOOST_AUTO_TEST_CASE(two_threads_really_run) {
  // Otherwise the comparisons below would compare a serial run with itself.
  int team = with_threads(2, [] {
    int n = 0;
#pragma omp parallel
    {
#pragma omp single
      n = omp_get_num_threads();
    }
    return n;
  });
  BOOST_TEST(team == 2);
}

BOOST_AUTO_TEST_CASE(big_elementwise_and_reduction_paths) {
  std::vector<Tensor> one = with_threads(1, big_ops);
  std::vector<Tensor> two = with_threads(2, big_ops);
  BOOST_REQUIRE(one.size() == two.size());
  for (size_t i = 0; i < one.size(); ++i)
    BOOST_TEST(same_bytes(one[i], two[i]), "result " << i << " differs between 1 and 2 threads");
  // The results are real numbers, not a NaN that happens to compare equal bytewise.
  BOOST_TEST(std::isfinite(one[7].item()));
  BOOST_TEST(sum_all(abs(one[8])) > 0.0f);
}

BOOST_AUTO_TEST_CASE(training_loop_is_bit_identical_for_1_and_2_threads) {
  TrainResult one = with_threads(1, train_small_cnn);
  TrainResult two = with_threads(2, train_small_cnn);
  BOOST_REQUIRE(one.weights.size() == two.weights.size());
  for (size_t i = 0; i < one.weights.size(); ++i)
    BOOST_TEST(same_bytes(one.weights[i], two.weights[i]),
               "weight " << i << " differs between 1 and 2 threads");
  BOOST_TEST(one.losses == two.losses);
  for (float l : one.losses) BOOST_TEST_MESSAGE("loss " << l);
  // Training happened: the loss moved and stayed finite.
  BOOST_TEST(std::isfinite(one.losses.back()));
  BOOST_TEST(one.losses.back() < one.losses.front());
}

BOOST_AUTO_TEST_SUITE_END()
