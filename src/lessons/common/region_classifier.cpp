#include "lessons/common/region_classifier.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "detection/nms.h"
#include "tensor/ops.h"
#include "util/timing.h"

namespace dl::cli {

Labelled label_windows(const DetectionDataset& ds, const std::vector<std::vector<Box>>& props) {
  Labelled out;
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const auto& item = ds.items[i];
    for (size_t g = 0; g < item.boxes.size(); ++g)
      out.fg.push_back({int64_t(i), item.boxes[g], item.labels[g] + 1});
    for (const Box& p : props[i]) {
      float best = 0;
      int which = -1;
      for (size_t g = 0; g < item.boxes.size(); ++g) {
        const float iou = box_iou(p, item.boxes[g]);
        if (iou > best) best = iou, which = static_cast<int>(g);
      }
      if (best >= 0.5f) out.fg.push_back({int64_t(i), p, item.labels[which] + 1});
      else out.bg.push_back({int64_t(i), p, 0});
    }
  }
  return out;
}


using json = nlohmann::json;

float norm20_scale(const std::vector<Tensor>& feats, int D) {
  double norm_sum = 0;
  int64_t norm_n = 0;
  for (const Tensor& f : feats)
    for (int64_t r = 0; r < f.size(0); ++r) {
      double s = 0;
      for (int d = 0; d < D; ++d) s += double(f[r * D + d]) * f[r * D + d];
      norm_sum += std::sqrt(s), norm_n++;
    }
  return norm_sum > 0 ? static_cast<float>(20.0 * norm_n / norm_sum) : 1.0f;
}

json train_region_svms(const DetectionDataset& train,
                       const std::vector<std::vector<Box>>& train_props,
                       const std::vector<Tensor>& prop_feats, const std::vector<Tensor>& gt_feats,
                       int D, double svm_c, int svm_rounds, uint64_t seed, Tensor& svm_weight,
                       Tensor& svm_bias, const std::function<void(const std::string&)>& log) {
  const int K = static_cast<int>(svm_bias.numel());
  HardNegativeOptions hn;
  hn.solver.C = svm_c;
  hn.rounds = svm_rounds;
  hn.solver.seed = seed;
  json svm_log = json::object();
  for (int k = 0; k < K; ++k) {
    std::vector<float> pos, neg;
    for (size_t i = 0; i < train.items.size(); ++i) {
      const auto& item = train.items[i];
      std::vector<Box> mine;
      for (size_t g = 0; g < item.boxes.size(); ++g)
        if (item.labels[g] == k) {
          mine.push_back(item.boxes[g]);
          pos.insert(pos.end(), gt_feats[i].data() + g * D, gt_feats[i].data() + (g + 1) * D);
        }
      for (size_t p = 0; p < train_props[i].size(); ++p) {
        float best = 0;
        for (const Box& g : mine) best = std::max(best, box_iou(train_props[i][p], g));
        if (best < 0.3f)
          neg.insert(neg.end(), prop_feats[i].data() + p * D, prop_feats[i].data() + (p + 1) * D);
      }
    }
    const int64_t P = static_cast<int64_t>(pos.size()) / D, N = static_cast<int64_t>(neg.size()) / D;
    std::vector<HardNegativeLog> rounds;
    LinearSvm svm;
    svm.w.assign(D, 0.0f);
    svm.b = -1;  // a class without examples never fires
    if (P > 0) svm = train_svm_hard_negatives(pos.data(), P, neg.data(), N, D, hn, &rounds);
    std::copy(svm.w.begin(), svm.w.end(), svm_weight.data() + int64_t(k) * D);
    svm_bias[k] = svm.b;
    json r = json::array();
    for (const auto& e : rounds)
      r.push_back({{"round", e.round}, {"cache", e.cache_size}, {"hard", e.hard_found},
                   {"added", e.added}, {"evicted", e.evicted}, {"objective", e.objective}});
    svm_log[train.class_names[k]] = {{"positives", P}, {"negative_pool", N}, {"rounds", r}};
    if (!rounds.empty() && log)
      log(fmt::format("svm {:<12} {:>5} positives, pool {:>7} negatives, {} rounds, final cache "
                      "{}, hard left {}",
                      train.class_names[k], P, N, rounds.size(), rounds.back().cache_size,
                      rounds.back().hard_found));
  }
  return svm_log;
}

json train_region_regressors(const DetectionDataset& train,
                             const std::vector<std::vector<Box>>& train_props,
                             const std::vector<Tensor>& prop_feats, int D, double lambda,
                             Tensor& bbox_weight) {
  const int K = static_cast<int>(bbox_weight.size(0));
  json reg_log = json::object();
  for (int k = 0; k < K; ++k) {
    std::vector<float> x;
    std::vector<Box> props, gts;
    for (size_t i = 0; i < train.items.size(); ++i) {
      const auto& item = train.items[i];
      for (size_t p = 0; p < train_props[i].size(); ++p) {
        float best = 0;
        int which = -1;
        for (size_t g = 0; g < item.boxes.size(); ++g) {
          const float iou = box_iou(train_props[i][p], item.boxes[g]);
          if (iou > best) best = iou, which = static_cast<int>(g);
        }
        if (best < 0.6f || item.labels[which] != k) continue;
        props.push_back(train_props[i][p]);
        gts.push_back(item.boxes[which]);
        x.insert(x.end(), prop_feats[i].data() + p * D, prop_feats[i].data() + (p + 1) * D);
      }
    }
    float* w = bbox_weight.data() + int64_t(k) * (D + 1) * 4;
    std::fill_n(w, (D + 1) * 4, 0.0f);  // no examples: leave boxes as they are
    if (!props.empty()) {
      const BoxRegressor r = train_box_regressor(x.data(), D, props, gts, lambda);
      for (int64_t j = 0; j < (D + 1) * 4; ++j) w[j] = static_cast<float>(r.weights[j]);
    }
    reg_log[train.class_names[k]] = props.size();
  }
  return reg_log;
}

std::vector<Detection> detect_regions(const Tensor& f, const std::vector<Box>& proposals,
                                      const Tensor& svm_weight, const Tensor& svm_bias,
                                      const Tensor& bbox_weight, int width, int height,
                                      const RegionDetectOptions& o, RegionStageTimes& t) {
  const int K = static_cast<int>(svm_bias.numel());
  const int D = static_cast<int>(svm_weight.size(1));
  const int64_t n = static_cast<int64_t>(proposals.size());
  // SVM scores for every (region, class): one [n, D] x [D, K] product.
  auto t0 = Clock::now();
  Tensor scores = n ? matmul(f, svm_weight, false, true) : Tensor({0, K});
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < K; ++k) scores[i * K + k] += svm_bias[k];
  std::vector<Box> boxes;
  std::vector<float> sc;
  std::vector<int> cls;
  std::vector<int64_t> region;
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < K; ++k)
      if (scores[i * K + k] >= o.threshold) {
        boxes.push_back(proposals[i]);
        sc.push_back(scores[i * K + k]);
        cls.push_back(k);
        region.push_back(i);
      }
  t.svm += seconds_since(t0);
  // Class-specific box regression of the kept boxes (R-CNN appendix C).
  t0 = Clock::now();
  if (o.regress) {
    std::vector<BoxRegressor> regs;
    for (int k = 0; k < K; ++k) {
      BoxRegressor r;
      r.dim = D;
      const float* w = bbox_weight.data() + int64_t(k) * (D + 1) * 4;
      r.weights.assign(w, w + (D + 1) * 4);
      regs.push_back(std::move(r));
    }
    for (size_t j = 0; j < boxes.size(); ++j)
      boxes[j] = regs[cls[j]].apply(f.data() + region[j] * D, boxes[j]);
  }
  for (Box& b : boxes) b = clip_box(b, float(width), float(height));
  t.regression += seconds_since(t0);
  t0 = Clock::now();
  const std::vector<int> keep = batched_nms(boxes, sc, cls, o.nms);
  std::vector<Detection> out;
  for (size_t i = 0; i < keep.size() && static_cast<int>(i) < o.max_detections; ++i)
    out.push_back({boxes[keep[i]], cls[keep[i]], sc[keep[i]], {}, {}});
  t.nms += seconds_since(t0);
  return out;
}

}  // namespace dl::cli
