#include "models/region_svm_head.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "detection/bbox_regression.h"
#include "detection/postprocess.h"
#include "nn/linear_svm.h"
#include "tensor/ops.h"
#include "util/timing.h"

namespace dl::models {

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

RegionTrainingFeatures region_training_features(const DetectionDataset& train,
                                                const std::vector<std::vector<Box>>& train_props,
                                                int D, const RegionFeatureFn& features) {
  RegionTrainingFeatures out;
  out.proposals.resize(train.items.size());
  out.ground_truth.resize(train.items.size());
  for (size_t i = 0; i < train.items.size(); ++i) {
    out.proposals[i] = features(i, train_props[i], true);
    out.ground_truth[i] = features(i, train.items[i].boxes, false);
  }
  // R-CNN scales the features to a mean L2 norm of 20 so that the SVM's C and the
  // ridge lambda do not depend on the network's activation scale.
  out.scale = norm20_scale(out.proposals, D);
  for (auto* v : {&out.proposals, &out.ground_truth})
    for (Tensor& f : *v)
      for (float& x : f) x *= out.scale;
  return out;
}

json train_region_svms(const DetectionDataset& train,
                       const std::vector<std::vector<Box>>& train_props,
                       const RegionTrainingFeatures& feats, double svm_c, int svm_rounds,
                       uint64_t seed, const RegionSvmHead& head,
                       const std::function<void(const std::string&)>& log) {
  const int K = static_cast<int>(head.svm_bias->numel());
  const int D = static_cast<int>(head.svm_weight->size(1));
  const std::vector<Tensor>& prop_feats = feats.proposals;
  const std::vector<Tensor>& gt_feats = feats.ground_truth;
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
    std::copy(svm.w.begin(), svm.w.end(), head.svm_weight->data() + int64_t(k) * D);
    (*head.svm_bias)[k] = svm.b;
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

double default_ridge_lambda(int D) { return 1000.0 * 9216.0 / D; }

json train_region_regressors(const DetectionDataset& train,
                             const std::vector<std::vector<Box>>& train_props,
                             const RegionTrainingFeatures& feats, double lambda,
                             const RegionSvmHead& head) {
  Tensor& bbox_weight = *head.bbox_weight;
  const int K = static_cast<int>(bbox_weight.size(0));
  const int D = static_cast<int>(bbox_weight.size(1)) - 1;
  const std::vector<Tensor>& prop_feats = feats.proposals;
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
                                      const RegionSvmHead& head, int width, int height,
                                      const RegionDetectOptions& o, RegionStageTimes* t) {
  const Tensor& svm_weight = *head.svm_weight;
  const Tensor& svm_bias = *head.svm_bias;
  const int K = static_cast<int>(svm_bias.numel());
  const int D = static_cast<int>(svm_weight.size(1));
  const int64_t n = static_cast<int64_t>(proposals.size());
  RegionStageTimes unused;
  RegionStageTimes& times = t ? *t : unused;
  // SVM scores for every (region, class): one [n, D] x [D, K] product.
  Tensor scores;
  {
    ScopedTimer timer(times.svm);
    scores = n ? matmul(f, svm_weight, false, true) : Tensor({0, K});
    for (int64_t i = 0; i < n; ++i)
      for (int k = 0; k < K; ++k) scores[i * K + k] += svm_bias[k];
  }
  // Class-specific box regression (R-CNN appendix C) of the (region, class) pairs that
  // pass the threshold; the others are dropped by postprocess_detections unread.
  Tensor boxes({n, 4 * int64_t(K)});
  {
    ScopedTimer timer(times.regression);
    std::vector<BoxRegressor> regs(K);
    for (int k = 0; k < K && o.regress; ++k) {
      regs[k].dim = D;
      const float* w = head.bbox_weight->data() + int64_t(k) * (D + 1) * 4;
      regs[k].weights.assign(w, w + (D + 1) * 4);
    }
    for (int64_t i = 0; i < n; ++i)
      for (int k = 0; k < K; ++k) {
        Box b = proposals[i];
        if (o.regress && scores[i * K + k] >= o.threshold) b = regs[k].apply(f.data() + i * D, b);
        float* dst = boxes.data() + (i * K + k) * 4;
        dst[0] = b.x1, dst[1] = b.y1, dst[2] = b.x2, dst[3] = b.y2;
      }
  }
  // Clipping, greedy NMS per class (IoU 0.3), the best max_detections.
  ScopedTimer timer(times.nms);
  PostprocessOptions po;
  po.score_threshold = o.threshold;
  po.nms_iou = o.nms;
  po.max_detections = o.max_detections;
  return postprocess_detections(scores, 0, boxes, width, height, po);
}

}  // namespace dl::models
