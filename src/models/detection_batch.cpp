#include "models/detection_batch.h"

#include <algorithm>

#include "models/backbone.h"

namespace dl::models {

DetectionBatch make_detection_batch(const DetectionDataset& ds, const std::vector<int64_t>& idx,
                                    bool flip, Rng& rng) {
  DetectionBatch b;
  int H = 0, W = 0;
  for (int64_t i : idx) {
    H = std::max(H, ds.items[i].image.height);
    W = std::max(W, ds.items[i].image.width);
  }
  b.images = Tensor({static_cast<int64_t>(idx.size()), 3, H, W});
  for (size_t n = 0; n < idx.size(); ++n) {
    const DetectionItem& item = ds.items[idx[n]];
    const bool mirror = flip && rng.bernoulli(0.5f);
    copy_into_batch(item.image, mirror, b.images, static_cast<int64_t>(n));
    std::vector<Box> boxes = item.boxes;
    if (mirror)
      for (Box& q : boxes) q = hflip_box(q, float(item.image.width));
    b.widths.push_back(item.image.width);
    b.heights.push_back(item.image.height);
    b.boxes.push_back(std::move(boxes));
    b.labels.push_back(item.labels);
    b.flipped.push_back(mirror);
  }
  return b;
}

void copy_into_batch(const Image& img, bool flip, Tensor& batch, int64_t n) {
  const int64_t h = img.height, w = img.width, H = batch.size(2), W = batch.size(3);
  check_shape(batch.dim() == 4 && batch.size(1) == 3 && n < batch.size(0) && h <= H && w <= W,
              "copy_into_batch", "image larger than the batch");
  const Tensor x = backbone_input(img, flip);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      std::copy(x.data() + (c * h + y) * w, x.data() + (c * h + y) * w + w,
                batch.data() + ((n * 3 + c) * H + y) * W);
}

}  // namespace dl::models
