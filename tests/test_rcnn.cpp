// Lesson 04's R-CNN: the SVM's hinge loss and its gradient by hand and by finite
// differences, the dual solver against plain subgradient descent, hard-negative mining
// on a tiny 2-D problem, ridge regression against a hand-solved case and the plain
// elimination, then bin/rcnn end to end on a tiny generated split and bad inputs.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "detection/bbox_regression.h"
#include "nn/checkpoint.h"
#include "nn/linear_svm.h"
#include "program_checks.h"
#include "tensor/rng.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

const detlab_test::Program rcnn{"rcnn"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("rcnn_data", 20, 6); }

double objective(const std::vector<float>& x, int64_t dim, const std::vector<float>& y,
                 const LinearSvm& s, const SvmSolverOptions& o) {
  std::vector<float> sw(y.size());
  for (size_t i = 0; i < y.size(); ++i) sw[i] = y[i] > 0 ? o.pos_weight : 1.0f;
  return svm_hinge_loss(x.data(), static_cast<int64_t>(y.size()), dim, y, sw, s.w, s.b, o.C,
                        o.bias_feature)
      .value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rcnn_svm)

BOOST_AUTO_TEST_CASE(hinge_loss_by_hand) {
  // w = (1, -1), b = 0.5, B = 1, C = 1; three points:
  //   (1, 0) y=+1: f = 1.5, outside the margin: no loss
  //   (0, 1) y=+1: f = -0.5, loss 1.5
  //   (1, 1) y=-1 (weight 2): f = 0.5, loss 2 * 1.5 = 3
  // regulariser 1/2 (1 + 1 + 0.25) = 1.125 -> J = 5.625
  // dJ/dw = w - 1 * (+1) (0, 1) - 2 * (-1) (1, 1) = (3, 0)
  // dJ/db = b / B^2 - 1 * (+1) - 2 * (-1) = 1.5
  const std::vector<float> x{1, 0, 0, 1, 1, 1}, y{1, 1, -1}, s{1, 1, 2};
  const auto r = svm_hinge_loss(x.data(), 3, 2, y, s, {1, -1}, 0.5f, 1.0, 1.0f);
  BOOST_TEST(r.value == 5.625, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(r.grad_w[0] == 3.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(std::abs(r.grad_w[1]) < 1e-9);
  BOOST_TEST(r.grad_b == 1.5, boost::test_tools::tolerance(1e-9));
  // C scales only the data term; B = 10 shrinks the bias's share of the regulariser.
  const auto r2 = svm_hinge_loss(x.data(), 3, 2, y, s, {1, -1}, 0.5f, 0.1, 10.0f);
  BOOST_TEST(r2.value == 0.5 * (2 + 0.0025) + 0.45, boost::test_tools::tolerance(1e-9));
  BOOST_CHECK_THROW(svm_hinge_loss(x.data(), 3, 2, {1, 1}, s, {1, -1}, 0, 1, 1),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(hinge_gradient_matches_finite_differences) {
  Rng rng(7);
  const int64_t dim = 5;
  std::vector<float> w(dim);
  for (float& v : w) v = rng.normal(0, 0.5f);
  const float b = 0.3f;
  const double C = 0.7;
  const float B = 3;
  // Random samples, keeping those away from the kink, so that a small step stays on
  // one linear piece of every hinge.
  std::vector<float> x, y, s;
  int active = 0;
  while (y.size() < 40) {
    std::vector<float> xi(dim);
    for (float& v : xi) v = rng.normal();
    const float yi = rng.bernoulli(0.5f) ? 1.0f : -1.0f;
    double f = b;
    for (int64_t d = 0; d < dim; ++d) f += double(w[d]) * xi[d];
    if (std::abs(1 - yi * f) < 0.05) continue;
    active += 1 - yi * f > 0;
    x.insert(x.end(), xi.begin(), xi.end());
    y.push_back(yi);
    s.push_back(1 + rng.uniform());
  }
  const int64_t n = static_cast<int64_t>(y.size());
  const auto r = svm_hinge_loss(x.data(), n, dim, y, s, w, b, C, B);
  BOOST_TEST(active > 5);  // the data term contributes
  BOOST_TEST(active < n);
  const float h = 1.0f / 512;  // exact in float; J is piecewise quadratic -> central FD exact
  for (int64_t d = 0; d <= dim; ++d) {
    std::vector<float> wp = w, wm = w;
    float bp = b, bm = b;
    if (d < dim) wp[d] += h, wm[d] -= h;
    else bp += h, bm -= h;
    const double fd = (svm_hinge_loss(x.data(), n, dim, y, s, wp, bp, C, B).value -
                       svm_hinge_loss(x.data(), n, dim, y, s, wm, bm, C, B).value) /
                      (2.0 * h);
    const double an = d < dim ? r.grad_w[d] : r.grad_b;
    BOOST_TEST(std::abs(fd - an) < 1e-4 * (1 + std::abs(an)), "coordinate " << d << ": " << fd
                                                                              << " vs " << an);
  }
}

BOOST_AUTO_TEST_CASE(dual_solver_reaches_the_minimum) {
  // Overlapping 2-D classes (not separable): the optimum has support vectors inside
  // the margin. Plain subgradient descent with a decaying step is the reference.
  Rng rng(3);
  const int64_t n = 60, dim = 2;
  std::vector<float> x(n * dim), y(n);
  for (int64_t i = 0; i < n; ++i) {
    y[i] = i % 3 == 0 ? 1.0f : -1.0f;
    x[i * 2] = rng.normal(y[i] > 0 ? 1.0f : -0.5f, 1.0f);
    x[i * 2 + 1] = rng.normal(y[i] > 0 ? 0.5f : -0.5f, 1.0f);
  }
  SvmSolverOptions o;
  o.C = 0.5;
  o.bias_feature = 2;
  o.tolerance = 1e-6;
  o.max_passes = 5000;
  const LinearSvm svm = train_linear_svm(x.data(), n, dim, y, o);
  const double j = objective(x, dim, y, svm, o);
  // Reference: subgradient descent, averaged iterate.
  LinearSvm ref;
  ref.w = {0, 0};
  std::vector<float> sw(n);
  for (int64_t i = 0; i < n; ++i) sw[i] = y[i] > 0 ? o.pos_weight : 1.0f;
  double best = 1e30;
  for (int it = 1; it <= 20000; ++it) {
    const auto g = svm_hinge_loss(x.data(), n, dim, y, sw, ref.w, ref.b, o.C, o.bias_feature);
    best = std::min(best, g.value);
    const double lr = 0.05 / std::sqrt(double(it));
    for (int d = 0; d < dim; ++d) ref.w[d] -= static_cast<float>(lr * g.grad_w[d]);
    ref.b -= static_cast<float>(lr * g.grad_b * o.bias_feature * o.bias_feature);
  }
  BOOST_TEST(j <= best + 1e-4, "dual CD " << j << " vs subgradient " << best);
  BOOST_TEST(j > 0.5 * best);  // and it is a real optimum, not a broken objective
  // No small step in any direction lowers J (a minimum of a convex function).
  for (int t = 0; t < 16; ++t) {
    LinearSvm p = svm;
    const float a = 6.2831853f * t / 16;
    p.w[0] += 1e-3f * std::cos(a);
    p.w[1] += 1e-3f * std::sin(a);
    p.b += (t % 2 ? 1e-3f : -1e-3f);
    BOOST_TEST(objective(x, dim, y, p, o) >= j - 1e-6);
  }
  // Deterministic: the same seed gives the same weights.
  const LinearSvm again = train_linear_svm(x.data(), n, dim, y, o);
  BOOST_TEST(again.w == svm.w);
  BOOST_TEST(again.b == svm.b);
}

BOOST_AUTO_TEST_CASE(hard_negative_mining_on_a_separable_2d_problem) {
  // Positives near (2, 2). The negative pool: 1990 easy ones far away near (-4, -4)
  // and 10 hard ones just across the true boundary near (0.6, 0.6), placed where the
  // first (evenly spaced) cache of 20 does not look.
  Rng rng(11);
  const int64_t P = 30, N = 2000, dim = 2;
  std::vector<float> pos(P * dim), neg(N * dim);
  for (int64_t i = 0; i < P; ++i)
    pos[i * 2] = 2 + rng.uniform(-0.5f, 0.5f), pos[i * 2 + 1] = 2 + rng.uniform(-0.5f, 0.5f);
  std::vector<int64_t> hard_idx;
  for (int64_t i = 0; i < N; ++i) {
    const bool hard = i % 200 == 7;
    if (hard) hard_idx.push_back(i);
    const float c = hard ? 0.6f : -4.0f, r = hard ? 0.2f : 1.0f;
    neg[i * 2] = c + rng.uniform(-r, r);
    neg[i * 2 + 1] = c + rng.uniform(-r, r);
  }
  HardNegativeOptions o;
  o.solver.C = 10;  // nearly hard-margin
  o.solver.bias_feature = 1;
  o.solver.tolerance = 1e-4;
  o.solver.max_passes = 2000;
  o.initial_cache = 20;
  o.rounds = 5;
  std::vector<HardNegativeLog> log;
  const LinearSvm svm = train_svm_hard_negatives(pos.data(), P, neg.data(), N, dim, o, &log);
  BOOST_REQUIRE(log.size() >= 2u);
  // Round 0 trained without the hard ones and found them violating the margin.
  BOOST_TEST(log[0].cache_size == 20);
  BOOST_TEST(log[0].added >= static_cast<int64_t>(hard_idx.size()));
  // Mining converged: the last round found nothing new; most of the pool was never
  // trained on, and easy cache entries were dropped.
  BOOST_TEST(log.back().added == 0);
  BOOST_TEST(log.back().cache_size < 100);
  int64_t evicted = 0;
  for (const auto& e : log) evicted += e.evicted;
  BOOST_TEST(evicted > 0);
  // Every training point ends on its side with a margin, the hard ones included.
  for (int64_t i = 0; i < P; ++i) BOOST_TEST(svm.score(&pos[i * 2]) > 0.9f);
  for (int64_t i = 0; i < N; ++i) BOOST_TEST_REQUIRE(svm.score(&neg[i * 2]) < -0.9f);
  // The same model as training on the whole pool at once (what mining promises).
  std::vector<float> x = pos, y(P, 1.0f);
  x.insert(x.end(), neg.begin(), neg.end());
  y.insert(y.end(), N, -1.0f);
  const LinearSvm full = train_linear_svm(x.data(), P + N, dim, y, o.solver);
  const double jm = objective(x, dim, y, svm, o.solver), jf = objective(x, dim, y, full, o.solver);
  BOOST_TEST(std::abs(jm - jf) < 1e-2 * jf, "mined " << jm << " vs full " << jf);
  // Without mining (no rounds), the first cache's model lets the hard ones through.
  o.rounds = 0;
  const LinearSvm naive = train_svm_hard_negatives(pos.data(), P, neg.data(), N, dim, o);
  float worst = -1e9f;
  for (int64_t i : hard_idx) worst = std::max(worst, naive.score(&neg[i * 2]));
  BOOST_TEST(worst > -0.9f, "without mining the hardest negative scores " << worst);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rcnn_bbox_regression)

BOOST_AUTO_TEST_CASE(ridge_regression_by_hand) {
  // x = 0, 1, 2 and t = 1, 3, 5 (t = 2x + 1): lambda 0 recovers (2, 1) exactly.
  const std::vector<float> x{0, 1, 2}, t{1, 3, 5};
  auto w = ridge_regression(x.data(), 3, 1, t.data(), 1, 0.0);
  BOOST_TEST(w[0] == 2.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(w[1] == 1.0, boost::test_tools::tolerance(1e-9));
  // lambda 1 on the slope only: [[5+1, 3], [3, 3]] (a, b) = (13, 9) -> a = 4/3, b = 5/3.
  for (const auto& v : {ridge_regression(x.data(), 3, 1, t.data(), 1, 1.0),
                        ridge_regression_reference(x.data(), 3, 1, t.data(), 1, 1.0)}) {
    BOOST_TEST(v[0] == 4.0 / 3, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(v[1] == 5.0 / 3, boost::test_tools::tolerance(1e-9));
  }
  // Cholesky against plain elimination on a random problem with 4 targets.
  Rng rng(5);
  const int64_t n = 50, dim = 8;
  std::vector<float> X(n * dim), T(n * 4);
  for (float& v : X) v = rng.normal();
  for (float& v : T) v = rng.normal();
  for (double lambda : {0.0, 0.3, 100.0}) {
    const auto a = ridge_regression(X.data(), n, dim, T.data(), 4, lambda);
    const auto b = ridge_regression_reference(X.data(), n, dim, T.data(), 4, lambda);
    BOOST_REQUIRE_EQUAL(a.size(), size_t((dim + 1) * 4));
    for (size_t i = 0; i < a.size(); ++i) BOOST_TEST(std::abs(a[i] - b[i]) < 1e-9);
  }
  // A huge lambda shrinks the weights to ~0; the unregularised bias becomes the mean.
  const auto big = ridge_regression(x.data(), 3, 1, t.data(), 1, 1e12);
  BOOST_TEST(std::abs(big[0]) < 1e-9);
  BOOST_TEST(big[1] == 3.0, boost::test_tools::tolerance(1e-6));
  // lambda 0 with too few distinct samples: not positive definite.
  const std::vector<float> same{1, 1, 1};
  BOOST_CHECK_THROW(ridge_regression(same.data(), 3, 1, t.data(), 1, 0.0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(box_regressor_moves_proposals_onto_the_ground_truth) {
  // Features that carry the answer (the true deltas, plus noise dims): a light ridge
  // learns the identity map and decodes proposals back onto their ground truth.
  Rng rng(9);
  std::vector<Box> props, gts;
  std::vector<float> feats;
  const int64_t dim = 6;
  for (int i = 0; i < 200; ++i) {
    const Box g{rng.uniform(0, 50), rng.uniform(0, 50), 0, 0};
    const Box gt{g.x1, g.y1, g.x1 + rng.uniform(10, 40), g.y1 + rng.uniform(10, 40)};
    const float w = gt.width(), h = gt.height();
    const Box p{gt.x1 + rng.uniform(-0.1f, 0.1f) * w, gt.y1 + rng.uniform(-0.1f, 0.1f) * h,
                gt.x2 + rng.uniform(-0.1f, 0.1f) * w, gt.y2 + rng.uniform(-0.1f, 0.1f) * h};
    props.push_back(p);
    gts.push_back(gt);
    const BoxDelta d = encode_box(gt, p);
    for (int c = 0; c < 4; ++c) feats.push_back(d[c]);
    feats.push_back(rng.normal());
    feats.push_back(rng.normal());
  }
  const BoxRegressor r = train_box_regressor(feats.data(), dim, props, gts, 1e-6);
  double before = 0, after = 0;
  for (size_t i = 0; i < props.size(); ++i) {
    before += box_iou(props[i], gts[i]);
    after += box_iou(r.apply(feats.data() + i * dim, props[i]), gts[i]);
  }
  BOOST_TEST(before / props.size() < 0.85);
  BOOST_TEST(after / props.size() > 0.999);
  // The paper's strong lambda pulls predictions towards the mean (here ~0 deltas).
  const BoxRegressor strong = train_box_regressor(feats.data(), dim, props, gts, 1e9);
  const BoxDelta d = strong.predict(feats.data());
  for (float v : d) BOOST_TEST(std::abs(v) < 0.02f);
  BOOST_CHECK_THROW(train_box_regressor(feats.data(), dim, props, {}, 1.0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rcnn_program)

BOOST_AUTO_TEST_CASE(tiny_train_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("rcnn_run");
  const std::string model = dir + "/m.safetensors", cache = dir + "/cache";
  const json tj = detlab_test::train_on_1_and_2_threads(
      rcnn,
      "train --scratch --quiet --epochs 2 --steps-per-epoch 8 --batch 32 --data " + data +
          " --cache-dir " + cache,
      dir);
  BOOST_TEST(tj["proposals_per_image"].get<double>() > 5);
  BOOST_TEST(tj["seconds"]["finetune"].get<double>() > 0);
  BOOST_TEST(!fs::is_empty(cache));  // proposals were cached
  const auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(json::parse(meta.at("config"))["arch"].get<std::string>() == "rcnn");
  BOOST_TEST(json::parse(meta.at("classes")).size() == 10u);

  const json ej = detlab_test::json_output(rcnn(
      "eval --json --threads 1 --data " + data + " --model " + model + " --cache-dir " + cache,
      dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  detlab_test::check_ap_in_range(ej);
  BOOST_TEST(ej["per_class"].size() == 10u);

  // Every class fires at threshold -100.
  detlab_test::predict_tiny_scene(
      rcnn, data, "--threshold -100 --model " + model + " --cache-dir " + cache, dir);

  const json bj = detlab_test::bench_tiny_scenes(
      rcnn, data, "--model " + model, {"proposals", "warping", "cnn", "svm", "regression", "nms"},
      dir)["seconds_per_image"];
  BOOST_TEST(bj["cnn"].get<double>() > 0);
  BOOST_TEST(bj["proposals"].get<double>() > 0);
  BOOST_TEST(bj["without_proposals"].get<double>() ==
                 bj["warping"].get<double>() + bj["cnn"].get<double>() +
                     bj["svm"].get<double>() + bj["regression"].get<double>() +
                     bj["nms"].get<double>(),
             boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("rcnn_bad");
  detlab_test::check_region_detector_bad_inputs(rcnn, data, dir, "not an rcnn model");

  // A corrupt image, with a valid model (a random one: bench without a model file
  // would time one, so train a minimal model instead via the program).
  const std::string model = detlab_test::train_minimal_svm_detector(rcnn, data, dir);
  detlab_test::check_broken_image(rcnn, "predict --cache-dir '' --model " + model, dir);
  detlab_test::check_exit_1_naming(
      rcnn("bench --cache-dir '' --model " + model + " " + dir + "/absent.png", dir), "absent.png");

  // Usage errors exit 2.
  detlab_test::check_usage_errors(
      rcnn, dir, {"train --input-size 20", "train --context 11", "eval --preset best", "predict"});
}

BOOST_AUTO_TEST_SUITE_END()
