// R-CNN's bounding-box regression (Girshick et al. 2014, appendix C): after a region
// has been scored, a class-specific linear model of its CNN features predicts how to
// move and rescale the proposal P towards the ground-truth box G:
//   t = (tx, ty, tw, th) = encode_box(G, P)   (box_coder.h: centre shifts relative to
//                                              P's size, log-space size ratios)
//   d(P) = W^T [phi(P); 1]                     (one 4-column W per class)
//   W = argmin sum_i |t_i - W^T x_i|^2 + lambda |W|^2     ridge regression
// Trained only on proposals near a ground truth (IoU >= 0.6 in the paper: "if P is
// far from all ground-truth boxes, then the task of transforming P to G does not make
// sense"), each paired with the ground truth it overlaps most. The paper's lambda = 1000
// "was important"; see the comment on RidgeOptions for the value at our feature size.
#pragma once
#include <cstdint>
#include <vector>

#include "detection/box_coder.h"
#include "detection/boxes.h"

namespace dl {

// Ridge regression with a bias column: solves (X'X + lambda I') W = X' T for
// X = [x | 1] (n x (dim + 1)), T (n x k), where I' is the identity except for a 0 at
// the bias (the bias is not shrunk: the mean offset of the proposals is real signal).
// Returns W row-major (dim + 1) x k, the last row the bias.
// Fast path: the normal equations accumulated once, then a Cholesky factorisation
// (the matrix is symmetric positive definite for lambda > 0 and n >= 1).
std::vector<double> ridge_regression(const float* x, int64_t n, int64_t dim, const float* t,
                                     int64_t k, double lambda);
// The plain version the tests use as the oracle: forms X' X + lambda I' element by
// element and solves by Gauss-Jordan elimination with partial pivoting.
std::vector<double> ridge_regression_reference(const float* x, int64_t n, int64_t dim,
                                               const float* t, int64_t k, double lambda);

// One class's regressor: weights (dim + 1) x 4 as above.
struct BoxRegressor {
  int64_t dim = 0;
  std::vector<double> weights;
  BoxDelta predict(const float* features) const;             // (tx, ty, tw, th)
  Box apply(const float* features, const Box& proposal) const;  // decode_box(predict, P)
};

// Fits a class's regressor on pairs (proposal i with features row i, its matched ground
// truth). Throws std::invalid_argument on size mismatch or a degenerate box.
BoxRegressor train_box_regressor(const float* features, int64_t dim,
                                 const std::vector<Box>& proposals,
                                 const std::vector<Box>& ground_truth, double lambda);

}  // namespace dl
