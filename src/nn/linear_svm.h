// Linear SVMs on CNN features, as R-CNN classifies regions (Girshick et al. 2014,
// sec. 2.3 "Object category classifiers" and appendix B): one linear SVM per class,
// one-vs-rest; positives are the ground-truth boxes' features, negatives the proposals
// with IoU < 0.3 with every object of the class. There are far too many negatives to
// train on at once, so the standard hard-negative mining method (Felzenszwalb et al.
// 2010 / Sung & Poggio 1994) trains on a cache of negatives, adds the ones that
// violate the margin, drops the easy ones, and repeats.
//
// The objective is liblinear's L2-regularised L1-loss ("hinge") SVM, which R-CNN's
// code calls (`-s 3 -c C -w1 2 -B 10`): with the bias read as a weight on a constant
// feature B (so the bias is regularised too, lightly, by (b / B)^2):
//   J(w, b) = 1/2 (|w|^2 + (b / B)^2) + C sum_i s_i max(0, 1 - y_i (w.x_i + b))
// y_i in {-1, +1}, s_i = pos_weight for positives and 1 for negatives.
// It is minimised by dual coordinate descent (Hsieh et al. 2008, "A Dual Coordinate
// Descent Method for Large-scale Linear SVM", Algorithm 1) -- liblinear's own solver
// for this loss: exact one-variable steps, no learning rate, deterministic in a fixed
// visiting order (here a dl::Rng permutation per pass).
#pragma once
#include <cstdint>
#include <vector>

namespace dl {

struct LinearSvm {
  std::vector<float> w;  // D weights
  float b = 0;
  // w.x + b: the signed margin (> 0 means "this class").
  float score(const float* x) const;
};

// Value and (sub)gradient of J at (w, b) for n rows of x (row-major n x dim), labels
// y in {-1, +1}, per-sample weights s (empty: all 1). At the hinge's kink
// (y f = 1 exactly) the subgradient of max(0, .) is taken as 0.
struct HingeLossResult {
  double value = 0;
  std::vector<double> grad_w;
  double grad_b = 0;
};
HingeLossResult svm_hinge_loss(const float* x, int64_t n, int64_t dim, const std::vector<float>& y,
                               const std::vector<float>& s, const std::vector<float>& w, float b,
                               double C, float bias_feature);

struct SvmSolverOptions {
  double C = 1e-3;          // R-CNN's value (with features scaled to mean norm 20)
  float pos_weight = 2.0f;  // R-CNN's -w1 2: positives are rare, weigh them up
  float bias_feature = 10;  // R-CNN's -B 10
  int max_passes = 200;     // dual coordinate descent sweeps over the data
  double tolerance = 0.1;   // stop when the projected-gradient spread is below this (liblinear)
  uint64_t seed = 1;        // visiting order
};

// Trains on n rows (x row-major n x dim, y in {-1, +1}). Deterministic for a seed.
LinearSvm train_linear_svm(const float* x, int64_t n, int64_t dim, const std::vector<float>& y,
                           const SvmSolverOptions& o);

struct HardNegativeOptions {
  SvmSolverOptions solver;
  int rounds = 4;                 // retrain-and-mine rounds after the first
  int64_t initial_cache = 5000;   // negatives in the first cache (spread over the pool)
  int64_t max_cache = 50000;      // the cache never holds more (hardest kept)
  float hard_threshold = -1.0001f;  // R-CNN: a negative scoring above this is "hard"
  float easy_threshold = -1.2f;     // R-CNN: cached negatives scoring below this are evicted
};

struct HardNegativeLog {
  int round = 0;
  int64_t cache_size = 0;     // negatives trained on in this round
  int64_t hard_found = 0;     // pool negatives violating the margin after the round
  int64_t added = 0, evicted = 0;
  double objective = 0;       // J on positives + cache
};

// One class: positives (P x dim) against a negative pool (N x dim) that is only ever
// scanned, never trained on all at once. Stops early when a round finds no new hard
// negative (the cache then contains every margin violator: the model is the SVM of
// the whole pool, which is what mining promises). `log` (optional) gets one entry a round.
LinearSvm train_svm_hard_negatives(const float* positives, int64_t P, const float* negatives,
                                   int64_t N, int64_t dim, const HardNegativeOptions& o,
                                   std::vector<HardNegativeLog>* log = nullptr);

}  // namespace dl
