#include "data/batching.h"

#include <algorithm>

namespace dl {

std::vector<int64_t> shuffled_indices(int64_t n, Rng& rng) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = rng.randint(0, i + 1);
    std::swap(idx[i], idx[j]);
  }
  return idx;
}

std::vector<int64_t> EpochBatches::step(int epoch, int64_t s) {
  if (epoch != epoch_) {
    Rng shuffle = Rng(seed_).fork(100 + static_cast<uint64_t>(epoch));
    order_ = shuffled_indices(n_, shuffle);
    epoch_ = epoch;
  }
  std::vector<int64_t> idx;
  for (int i = 0; i < per_step_; ++i) idx.push_back(order_[(s * per_step_ + i) % n_]);
  return idx;
}

static inline float norm_px(uint8_t v) { return (v / 255.0f - kFashionMean) / kFashionStd; }

Tensor normalise_image(const uint8_t* pixels, int rows, int cols) {
  Tensor t({1, 1, rows, cols});
  for (int i = 0; i < rows * cols; ++i) t[i] = norm_px(pixels[i]);
  return t;
}

Batch make_batch(const FashionMnist& data, const std::vector<int64_t>& indices, int64_t start,
                 int64_t size, const Augment& aug, const Rng* rng) {
  const int64_t n = std::max<int64_t>(0, std::min<int64_t>(size, (int64_t)indices.size() - start));
  check_shape(n > 0, "make_batch", "empty batch");
  const int H = data.rows, W = data.cols;
  Batch b{Tensor({n, 1, H, W}), Tensor({n})};
  const float background = norm_px(0);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = indices[start + i];
    const uint8_t* src = data.image(k);
    float* dst = b.images.data() + i * H * W;
    b.labels[i] = data.labels[k];
    int dx = 0, dy = 0;
    bool flip = false;
    if (aug.enabled && rng) {
      Rng r = rng->fork(static_cast<uint64_t>(k));
      dx = static_cast<int>(r.randint(-aug.pad, aug.pad + 1));
      dy = static_cast<int>(r.randint(-aug.pad, aug.pad + 1));
      flip = aug.hflip && r.bernoulli(0.5f);
    }
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const int sx0 = x + dx, sy = y + dy;
        const int sx = flip ? W - 1 - sx0 : sx0;
        dst[y * W + x] = (sx >= 0 && sx < W && sy >= 0 && sy < H) ? norm_px(src[sy * W + sx])
                                                                   : background;
      }
  }
  return b;
}

}  // namespace dl
