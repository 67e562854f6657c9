// Truncated SVD of a fully connected layer (Fast R-CNN, Girshick 2015, §3.1).
// At test time a detector runs its FC layers once per RoI, so with thousands of RoIs
// they cost more than the convolutions. A layer y = W x + b with W of size u x v is
// replaced by two layers through the factorisation
//     W  ~=  U_t Sigma_t V_t^T      (the t largest singular values)
//     y  =   U_t (Sigma_t V_t^T x) + b
// the first without bias (weights Sigma_t V_t^T, t x v), the second with W's bias
// (weights U_t, u x t): t (u + v) multiply-adds per RoI instead of u v.
//
// The SVD is computed deterministically in double precision:
//   svd_jacobi      one-sided Jacobi (Hestenes 1958): plane rotations orthogonalise
//                   the rows of W pairwise until they are mutually orthogonal; the
//                   row norms are the singular values.
//   svd_reference   the plain route: eigen-decomposition of W W^T by cyclic Jacobi
//                   rotations; singular values are the square roots of the
//                   eigenvalues (loses precision for tiny singular values, fine as
//                   an oracle for the well-conditioned test matrices).
#pragma once
#include <memory>
#include <vector>

#include "nn/layers.h"
#include "tensor/tensor.h"

namespace dl::nn {

// W = U diag(S) V^T with W [u, v]: U [u, r], S [r] descending, V [v, r], r = min(u, v).
struct SvdResult {
  Tensor U, S, V;
};

SvdResult svd_jacobi(const Tensor& W);
SvdResult svd_reference(const Tensor& W);

// U_t diag(S_t) V_t^T: the rank-t approximation, [u, v].
Tensor svd_reconstruct(const SvdResult& svd, int t);

// The two layers replacing `layer` (weights [out, in]) with rank t (1 <= t <= min(out, in)):
// Sequential{Linear(in -> t, no bias), Linear(t -> out, layer's bias)}. Throws
// std::invalid_argument for t out of range.
std::shared_ptr<Sequential> truncated_svd_linear(const Linear& layer, int t);

}  // namespace dl::nn
