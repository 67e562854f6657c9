// Mini-batches: a deterministic shuffle per epoch (Fisher-Yates with dl::Rng), then
// batches of images as [B, 1, H, W] floats normalised with the dataset's mean/std,
// with optional augmentation (random crop after zero padding, horizontal flip) drawn
// from a per-image Rng fork, so results do not depend on thread count or order.
#pragma once
#include <cstdint>
#include <vector>

#include "data/fashion_mnist.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace dl {

// Fashion-MNIST training-set pixel statistics (of x/255).
constexpr float kFashionMean = 0.2860f;
constexpr float kFashionStd = 0.3530f;

// 0..n-1 shuffled by Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm P).
std::vector<int64_t> shuffled_indices(int64_t n, Rng& rng);

// The images of each training step when every epoch visits all n images in a fresh
// order, shuffled with Rng(seed).fork(100 + epoch): step s of an epoch takes positions
// s * per_step .. s * per_step + per_step - 1 of it, wrapping around at the end (the
// detectors' image-centric batches, Fast R-CNN §2.3).
class EpochBatches {
 public:
  EpochBatches(int64_t n, int per_step, uint64_t seed) : n_(n), per_step_(per_step), seed_(seed) {}
  int64_t steps_per_epoch() const { return (n_ + per_step_ - 1) / per_step_; }
  std::vector<int64_t> step(int epoch, int64_t s);

 private:
  int64_t n_;
  int per_step_;
  uint64_t seed_;
  int epoch_ = -1;  // whose order `order_` holds
  std::vector<int64_t> order_;
};

struct Augment {
  bool enabled = false;
  int pad = 2;         // random crop of the original size out of the padded image
  bool hflip = true;   // mirror with probability 1/2
};

struct Batch {
  Tensor images;  // [B, 1, H, W]
  Tensor labels;  // [B], class indices as floats
};

// Items `indices[start, start + size)` of `data`. `rng` (only used when augmenting)
// is forked per dataset index, so the same epoch seed gives the same pixels.
Batch make_batch(const FashionMnist& data, const std::vector<int64_t>& indices, int64_t start,
                 int64_t size, const Augment& aug = {}, const Rng* rng = nullptr);

// One 28x28 image (uint8) -> normalised [1, 1, 28, 28].
Tensor normalise_image(const uint8_t* pixels, int rows, int cols);

}  // namespace dl
