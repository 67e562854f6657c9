#include "models/sliding_window.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "data/batching.h"
#include "image/transforms.h"
#include "util/timing.h"

namespace dl::models {

// ---- training crops -----------------------------------------------------------------

float best_iou(const DetectionItem& item, const Box& w, int& which) {
  float best = 0;
  which = -1;
  for (size_t i = 0; i < item.boxes.size(); ++i) {
    const float iou = box_iou(w, item.boxes[i]);
    if (iou > best) best = iou, which = static_cast<int>(i);
  }
  return best;
}

bool place_window(float cx, float cy, float side, float aspect, int W, int H, Box& out) {
  const float w = side / std::sqrt(aspect), h = side * std::sqrt(aspect);
  if (w > W || h > H || w < 4 || h < 4) return false;
  const float x0 = std::clamp(cx - w / 2, 0.0f, W - w), y0 = std::clamp(cy - h / 2, 0.0f, H - h);
  out = {x0, y0, x0 + w, y0 + h};
  return true;
}

std::vector<CropSample> sample_crops(const DetectionItem& item, int64_t index,
                                     const SlidingWindowConfig& windows,
                                     const SamplingOptions& o, Rng rng) {
  std::vector<CropSample> out;
  const int W = item.image.width, H = item.image.height;
  const auto& aspects = windows.aspects;
  const float lo = *std::min_element(windows.scales.begin(), windows.scales.end());
  const float hi = *std::max_element(windows.scales.begin(), windows.scales.end());
  for (size_t k = 0; k < item.boxes.size(); ++k) {
    const Box& b = item.boxes[k];
    // The window shape a scan would use for it: the aspect nearest in log ratio.
    const float ratio = b.height() / std::max(1.0f, b.width());
    float aspect = aspects[0];
    for (float a : aspects)
      if (std::abs(std::log(a / ratio)) < std::abs(std::log(aspect / ratio))) aspect = a;
    const float side = std::sqrt(std::max(1.0f, box_area(b)));
    for (int p = 0; p < o.positives_per_object; ++p)
      for (int attempt = 0; attempt < 10; ++attempt) {
        const float s = side * std::exp(rng.uniform(-0.25f, 0.25f));
        const float w = s / std::sqrt(aspect), h = s * std::sqrt(aspect);
        Box win;
        if (!place_window(b.cx() + rng.uniform(-0.15f, 0.15f) * w,
                          b.cy() + rng.uniform(-0.15f, 0.15f) * h, s, aspect, W, H, win))
          continue;
        int which = -1;
        if (best_iou(item, win, which) < o.positive_iou) continue;
        out.push_back({index, win, item.labels[which] + 1, rng.bernoulli(0.5f)});
        break;
      }
  }
  for (int n = 0; n < o.negatives_per_image; ++n)
    for (int attempt = 0; attempt < 10; ++attempt) {
      const float aspect = aspects[rng.below(static_cast<uint32_t>(aspects.size()))];
      Box win;
      bool ok;
      if (!item.boxes.empty() && rng.bernoulli(0.5f)) {
        // A partial overlap: near an object, shifted or the wrong size. These teach
        // the classifier that half a trouser is not a trouser.
        const Box& b = item.boxes[rng.below(static_cast<uint32_t>(item.boxes.size()))];
        const float s = std::sqrt(std::max(1.0f, box_area(b))) * std::exp(rng.uniform(-0.8f, 0.8f));
        ok = place_window(b.cx() + rng.uniform(-1.0f, 1.0f) * s, b.cy() + rng.uniform(-1.0f, 1.0f) * s,
                          s, aspect, W, H, win);
      } else {
        const float s = lo * std::exp(rng.uniform(0.0f, std::log(hi / lo)));
        ok = place_window(rng.uniform(0.0f, float(W)), rng.uniform(0.0f, float(H)), s, aspect, W,
                          H, win);
      }
      int which = -1;
      if (!ok || best_iou(item, win, which) >= o.negative_iou) continue;
      out.push_back({index, win, 0, rng.bernoulli(0.5f)});
      break;
    }
  return out;
}

std::vector<CropSample> sample_dataset(const DetectionDataset& ds,
                                       const SlidingWindowConfig& windows,
                                       const SamplingOptions& o, const Rng& rng) {
  std::vector<std::vector<CropSample>> per(ds.items.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < static_cast<int64_t>(ds.items.size()); ++i)
    per[i] = sample_crops(ds.items[i], i, windows, o, rng.fork(static_cast<uint64_t>(i)));
  std::vector<CropSample> all;
  for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
  return all;
}

CropBatch make_crop_batch(const DetectionDataset& ds, const std::vector<CropSample>& samples,
                          const std::vector<int64_t>& order, int64_t start, int64_t size, int S) {
  CropBatch b{Tensor({size, 3, S, S}), Tensor({size})};
  const int64_t plane = 3LL * S * S;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < size; ++i) {
    const CropSample& s = samples[order[(start + i) % order.size()]];
    const Box& w = s.window;
    const Image crop = warp_region(ds.items[s.item].image, w.x1, w.y1, w.x2, w.y2, S, S, {},
                                   Border::Clamp);
    const Tensor x = backbone_input(crop);
    float* dst = b.images.data() + i * plane;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < S; ++y)
        for (int xx = 0; xx < S; ++xx)
          dst[(c * S + y) * S + xx] = x[(c * S + y) * S + (s.flip ? S - 1 - xx : xx)];
    b.labels[i] = static_cast<float>(s.label);
  }
  return b;
}

CropEpochs::CropEpochs(const DetectionDataset& ds, const SlidingWindowConfig& windows,
                       const SamplingOptions& o, uint64_t seed)
    : ds_(ds), windows_(windows), options_(o), seed_(seed) {
  per_epoch_ = static_cast<int64_t>(sample_dataset(ds, windows, o, Rng(seed).fork(1000)).size());
}

CropBatch CropEpochs::batch(int epoch, int64_t step, int64_t size, int S) {
  if (epoch != epoch_) {
    samples_ = sample_dataset(ds_, windows_, options_, Rng(seed_).fork(1000 + epoch));
    Rng shuffle = Rng(seed_).fork(100 + epoch);
    order_ = shuffled_indices(static_cast<int64_t>(samples_.size()), shuffle);
    epoch_ = epoch;
  }
  return make_crop_batch(ds_, samples_, order_, step * size, size, S);
}

CropLosses crop_losses(CropClassifier& net, const CropBatch& b) {
  CropLosses l;
  Var logits = net.classify(Var(b.images));
  l.classification = ag::cross_entropy(logits, b.labels);
  Tensor pred = argmax(logits.value(), 1);
  for (int64_t i = 0; i < pred.numel(); ++i) l.correct += pred[i] == b.labels[i];
  return l;
}

CropAccuracy crop_accuracy(CropClassifier& net, const DetectionDataset& ds,
                           const std::vector<CropSample>& samples) {
  NoGradGuard no_grad;
  const bool was = net.is_training();
  net.eval();
  std::vector<int64_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  int64_t correct = 0, obj = 0, obj_correct = 0, bg_correct = 0;
  const int S = net.config.input_size;
  for (size_t s = 0; s < samples.size(); s += 256) {
    const int64_t n = std::min<int64_t>(256, samples.size() - s);
    CropBatch b = make_crop_batch(ds, samples, order, static_cast<int64_t>(s), n, S);
    Tensor pred = argmax(net.classify(Var(b.images)).value(), 1);
    for (int64_t i = 0; i < n; ++i) {
      const bool ok = pred[i] == b.labels[i];
      correct += ok;
      if (b.labels[i] > 0) obj++, obj_correct += ok;
      else bg_correct += ok;
    }
  }
  net.train(was);
  CropAccuracy a;
  a.n = static_cast<int64_t>(samples.size());
  a.all = a.n ? double(correct) / a.n : 0;
  a.objects = obj ? double(obj_correct) / obj : 0;
  a.background = a.n - obj ? double(bg_correct) / (a.n - obj) : 0;
  return a;
}

// ---- detection ------------------------------------------------------------------------

WindowDetections detect(CropClassifier& net, const Image& img, const WindowScan& scan) {
  WindowDetections out;
  const auto t0 = Clock::now();
  SlidingWindowConfig windows = scan.windows;
  windows.crop_size = net.config.input_size;
  out.levels = make_pyramid(img.width, img.height, windows);
  out.scores = score_windows(net, img, out.levels, scan.mode, scan.crop_batch);
  // Every class's score of a window goes with the window's box (column 0 is background).
  const Tensor boxes = boxes_to_tensor(all_window_boxes(out.levels));
  out.dets = postprocess_detections(out.scores.probs, 1, boxes, img.width, img.height, scan.post);
  out.seconds = seconds_since(t0);
  return out;
}

}  // namespace dl::models
