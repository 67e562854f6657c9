// Hard negative mining (SSD, Liu et al., ECCV 2016, §2.2 "Hard negative mining"): after
// matching, most default boxes are negatives -- on a 128 x 128 scene ~8,000 of them
// against ~30 positives. "Instead of using all the negative examples, we sort them using
// the highest confidence loss for each default box and pick the top ones so that the ratio
// between the negatives and positives is at most 3:1." The confidence loss of a negative
// is its softmax cross-entropy against the background class, -log p(background): the
// negatives the network most confidently takes for an object.
//
// Per image, as torchvision's SSD.compute_loss: an image keeps ceil(ratio x its positives)
// negatives (none when it has no positive -- torchvision's rule; the paper does not say).
// Ties in the loss go to the lower default-box index, so the selection never depends on
// the sort algorithm (torchvision's sort is not stable: equal losses may be picked
// either way there; the golden test uses losses without ties).
#pragma once
#include <vector>

namespace dl {

// conf_loss[i]: default box i's confidence loss; positive[i]: matched to an object.
// Returns the chosen negatives' indices, the highest loss first (ties: lower index first);
// at most the number of negatives there are. Throws std::invalid_argument when the sizes
// differ or ratio < 0.
std::vector<int> hard_negatives(const std::vector<float>& conf_loss, const std::vector<bool>& positive,
                                float neg_pos_ratio = 3.0f);

// The same by the plain recipe (every negative sorted, the first ones taken): the oracle
// for hard_negatives, which only partially sorts.
std::vector<int> hard_negatives_reference(const std::vector<float>& conf_loss,
                                          const std::vector<bool>& positive,
                                          float neg_pos_ratio = 3.0f);

}  // namespace dl
