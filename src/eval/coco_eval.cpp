#include "eval/coco_eval.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

namespace dl {

CocoEvalParams::CocoEvalParams(CocoIouType type) : iou_type(type) {
  // numpy's linspace(start, stop, n): start + i * ((stop - start) / (n - 1)), with the
  // last value set to stop. Computed the same way so that an IoU exactly at a
  // threshold is decided as pycocotools decides it.
  const double iou_step = (0.95 - 0.5) / 9;
  for (int i = 0; i < 10; ++i) iou_thresholds.push_back(i * iou_step + 0.5);
  iou_thresholds.back() = 0.95;
  const double rec_step = 1.0 / 100;
  for (int i = 0; i <= 100; ++i) recall_thresholds.push_back(i * rec_step + 0.0);
  recall_thresholds.back() = 1.0;
}

double CocoEvalResult::precision_at(int t, int r, int k, int a, int m) const {
  const size_t R = params.recall_thresholds.size(), K = category_ids.size(),
               A = params.area_ranges.size(), M = params.max_dets.size();
  return precision.at((((t * R + r) * K + k) * A + a) * M + m);
}

double CocoEvalResult::recall_at(int t, int k, int a, int m) const {
  const size_t K = category_ids.size(), A = params.area_ranges.size(),
               M = params.max_dets.size();
  return recall.at(((t * K + k) * A + a) * M + m);
}

double coco_box_iou(const std::array<double, 4>& dt, const std::array<double, 4>& gt,
                    bool gt_iscrowd) {
  const double w = std::min(dt[2] + dt[0], gt[2] + gt[0]) - std::max(dt[0], gt[0]);
  if (w <= 0) return 0;
  const double h = std::min(dt[3] + dt[1], gt[3] + gt[1]) - std::max(dt[1], gt[1]);
  if (h <= 0) return 0;
  const double inter = w * h;
  const double dt_area = dt[2] * dt[3];
  const double uni = gt_iscrowd ? dt_area : dt_area + gt[2] * gt[3] - inter;
  return inter / uni;
}

namespace {

// The outcome for one image, one category and one area range (COCOeval.evaluateImg):
// its detections (best first, at most the largest maxDets) and, per IoU threshold,
// whether each was matched and whether it is ignored.
struct ImageEval {
  bool present = false;  // false when the image has neither ground truth nor detections
  std::vector<double> scores;
  std::vector<uint8_t> matched, ignored;  // [T][D]
  int num_regular_gt = 0;                 // ground truth not ignored
};

// Stable sort by descending score (numpy's mergesort of -score).
std::vector<int> by_score(const std::vector<int>& idx, const std::vector<CocoAnnotation>& anns) {
  std::vector<int> out = idx;
  std::stable_sort(out.begin(), out.end(),
                   [&](int a, int b) { return anns[a].score > anns[b].score; });
  return out;
}

}  // namespace

CocoEvalResult coco_evaluate(const CocoDataset& ground_truth,
                             const std::vector<CocoAnnotation>& results,
                             CocoIouType iou_type) {
  return coco_evaluate(ground_truth, results, CocoEvalParams(iou_type));
}

CocoEvalResult coco_evaluate(const CocoDataset& gt_set, const std::vector<CocoAnnotation>& dts,
                             const CocoEvalParams& p) {
  CocoEvalResult res;
  res.params = p;
  const bool segm = p.iou_type == CocoIouType::Segm;
  if (p.max_dets.empty() || p.iou_thresholds.empty() || p.recall_thresholds.empty() ||
      p.area_ranges.empty())
    throw std::invalid_argument("coco_evaluate: empty parameter list");
  std::vector<int> max_dets = p.max_dets;
  std::sort(max_dets.begin(), max_dets.end());
  res.params.max_dets = max_dets;

  // Images and categories: sorted unique ids of the ground truth.
  std::vector<int64_t> img_ids, cat_ids;
  for (const CocoImage& im : gt_set.images) img_ids.push_back(im.id);
  for (const CocoCategory& c : gt_set.categories) cat_ids.push_back(c.id);
  std::sort(img_ids.begin(), img_ids.end());
  img_ids.erase(std::unique(img_ids.begin(), img_ids.end()), img_ids.end());
  std::sort(cat_ids.begin(), cat_ids.end());
  cat_ids.erase(std::unique(cat_ids.begin(), cat_ids.end()), cat_ids.end());
  res.category_ids = cat_ids;
  std::map<int64_t, int> img_index, cat_index;
  for (size_t i = 0; i < img_ids.size(); ++i) img_index[img_ids[i]] = static_cast<int>(i);
  for (size_t k = 0; k < cat_ids.size(); ++k) cat_index[cat_ids[k]] = static_cast<int>(k);
  const int I = static_cast<int>(img_ids.size()), K = static_cast<int>(cat_ids.size());
  const int T = static_cast<int>(p.iou_thresholds.size());
  const int R = static_cast<int>(p.recall_thresholds.size());
  const int A = static_cast<int>(p.area_ranges.size()), M = static_cast<int>(max_dets.size());

  // Annotations per (category, image), in file order (COCO.getAnnIds order).
  const std::vector<CocoAnnotation>& gts = gt_set.annotations;
  std::vector<std::vector<int>> gt_of(static_cast<size_t>(K) * I), dt_of(gt_of.size());
  for (size_t j = 0; j < gts.size(); ++j) {
    auto ii = img_index.find(gts[j].image_id);
    auto kk = cat_index.find(gts[j].category_id);
    if (ii != img_index.end() && kk != cat_index.end())
      gt_of[static_cast<size_t>(kk->second) * I + ii->second].push_back(static_cast<int>(j));
  }
  for (size_t j = 0; j < dts.size(); ++j) {
    auto ii = img_index.find(dts[j].image_id);
    if (ii == img_index.end())
      throw std::invalid_argument(fmt::format(
          "coco_evaluate: result {} is on image {}, which the ground truth does not have", j,
          dts[j].image_id));
    auto kk = cat_index.find(dts[j].category_id);
    if (kk != cat_index.end())  // unknown categories are skipped, as pycocotools does
      dt_of[static_cast<size_t>(kk->second) * I + ii->second].push_back(static_cast<int>(j));
  }

  // Masks (segm) and detection areas.
  std::map<int64_t, const CocoImage*> image_of;
  for (const CocoImage& im : gt_set.images) image_of.emplace(im.id, &im);
  std::vector<Rle> gt_rle(segm ? gts.size() : 0), dt_rle(segm ? dts.size() : 0);
  std::vector<double> dt_area(dts.size());
  auto mask_of = [&](const CocoAnnotation& a, const char* what, size_t j) {
    if (a.segmentation.kind == CocoSegmentation::Kind::None)
      throw std::invalid_argument(
          fmt::format("coco_evaluate: {} {} has no segmentation for segm evaluation", what, j));
    const CocoImage* im = image_of.at(a.image_id);
    Rle r = annotation_to_rle(a, im->height, im->width);
    if (r.height != im->height || r.width != im->width)
      throw std::invalid_argument(fmt::format(
          "coco_evaluate: {} {}: mask is {}x{} but image {} is {}x{}", what, j, r.height,
          r.width, im->id, im->height, im->width));
    return r;
  };
  for (const std::vector<int>& list : gt_of)
    for (int j : list)
      if (segm) gt_rle[j] = mask_of(gts[j], "annotation", j);
  for (const std::vector<int>& list : dt_of)
    for (int j : list) {
      if (segm) {
        dt_rle[j] = mask_of(dts[j], "result", j);
        dt_area[j] = p.segm_area_from_box ? dts[j].bbox[2] * dts[j].bbox[3]
                                          : static_cast<double>(rle_area(dt_rle[j]));
      } else {
        dt_area[j] = dts[j].bbox[2] * dts[j].bbox[3];
      }
    }

  // ---- evaluateImg for every (category, area range, image) ----
  std::vector<ImageEval> evals(static_cast<size_t>(K) * A * I);
  const int max_det = max_dets.back();
  for (int k = 0; k < K; ++k) {
    for (int i = 0; i < I; ++i) {
      const std::vector<int>& g_list = gt_of[static_cast<size_t>(k) * I + i];
      std::vector<int> d_list = by_score(dt_of[static_cast<size_t>(k) * I + i], dts);
      if (static_cast<int>(d_list.size()) > max_det) d_list.resize(max_det);
      const int G = static_cast<int>(g_list.size()), D = static_cast<int>(d_list.size());
      if (G == 0 && D == 0) continue;
      std::vector<double> iou(static_cast<size_t>(D) * G);
      for (int d = 0; d < D; ++d)
        for (int g = 0; g < G; ++g) {
          const CocoAnnotation& ga = gts[g_list[g]];
          iou[static_cast<size_t>(d) * G + g] =
              segm ? rle_iou(dt_rle[d_list[d]], gt_rle[g_list[g]], ga.iscrowd)
                   : coco_box_iou(dts[d_list[d]].bbox, ga.bbox, ga.iscrowd);
        }
      for (int a = 0; a < A; ++a) {
        const double lo = p.area_ranges[a][0], hi = p.area_ranges[a][1];
        ImageEval& e = evals[(static_cast<size_t>(k) * A + a) * I + i];
        e.present = true;
        // Ground truth: ignored when crowd or outside the area range; regular first.
        std::vector<uint8_t> ig(G);
        for (int g = 0; g < G; ++g) {
          const CocoAnnotation& ga = gts[g_list[g]];
          ig[g] = ga.iscrowd || ga.area < lo || ga.area > hi;
          if (!ig[g]) ++e.num_regular_gt;
        }
        std::vector<int> order(G);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return ig[x] < ig[y]; });

        e.scores.resize(D);
        for (int d = 0; d < D; ++d) e.scores[d] = dts[d_list[d]].score;
        e.matched.assign(static_cast<size_t>(T) * D, 0);
        e.ignored.assign(static_cast<size_t>(T) * D, 0);
        for (int t = 0; t < T; ++t) {
          std::vector<uint8_t> gt_taken(G, 0);
          for (int d = 0; d < D; ++d) {
            double best = std::min(p.iou_thresholds[t], 1 - 1e-10);
            int m = -1;
            for (int g : order) {
              const bool crowd = gts[g_list[g]].iscrowd;
              if (gt_taken[g] && !crowd) continue;  // a crowd region absorbs many
              // Already matched to regular ground truth; only ignored ones remain.
              if (m > -1 && !ig[m] && ig[g]) break;
              const double v = iou[static_cast<size_t>(d) * G + g];
              if (v < best) continue;
              best = v;
              m = g;
            }
            if (m == -1) continue;
            e.ignored[static_cast<size_t>(t) * D + d] = ig[m];
            e.matched[static_cast<size_t>(t) * D + d] = 1;
            gt_taken[m] = 1;
          }
          // Unmatched detections outside the area range are not counted against it.
          for (int d = 0; d < D; ++d) {
            const double ar = dt_area[d_list[d]];
            if (!e.matched[static_cast<size_t>(t) * D + d] && (ar < lo || ar > hi))
              e.ignored[static_cast<size_t>(t) * D + d] = 1;
          }
        }
      }
    }
  }

  // ---- accumulate: precision/recall over all images per (category, area, maxDets) ----
  res.precision.assign(static_cast<size_t>(T) * R * K * A * M, -1.0);
  res.recall.assign(static_cast<size_t>(T) * K * A * M, -1.0);
  res.class_tp50.assign(K, 0);
  res.class_fp50.assign(K, 0);
  res.class_num_gt.assign(K, 0);
  for (int k = 0; k < K; ++k) {
    for (int a = 0; a < A; ++a) {
      for (int m = 0; m < M; ++m) {
        const int md = max_dets[m];
        std::vector<double> scores;
        std::vector<std::vector<uint8_t>> matched(T), ignored(T);
        int npig = 0;
        bool any = false;
        for (int i = 0; i < I; ++i) {
          const ImageEval& e = evals[(static_cast<size_t>(k) * A + a) * I + i];
          if (!e.present) continue;
          any = true;
          npig += e.num_regular_gt;
          const int D = static_cast<int>(e.scores.size()), n = std::min(D, md);
          for (int d = 0; d < n; ++d) scores.push_back(e.scores[d]);
          for (int t = 0; t < T; ++t)
            for (int d = 0; d < n; ++d) {
              matched[t].push_back(e.matched[static_cast<size_t>(t) * D + d]);
              ignored[t].push_back(e.ignored[static_cast<size_t>(t) * D + d]);
            }
        }
        if (!any || npig == 0) continue;
        if (a == 0 && m == M - 1) res.class_num_gt[k] = npig;
        const int nd = static_cast<int>(scores.size());
        std::vector<int> order(nd);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int x, int y) { return scores[x] > scores[y]; });
        for (int t = 0; t < T; ++t) {
          std::vector<double> rc(nd), pr(nd);
          double tp = 0, fp = 0;
          for (int j = 0; j < nd; ++j) {
            const int d = order[j];
            if (!ignored[t][d]) (matched[t][d] ? tp : fp) += 1;
            rc[j] = tp / npig;
            // pycocotools adds np.spacing(1) so that an all-ignored prefix gives 0.
            pr[j] = tp / (fp + tp + 2.220446049250313e-16);
          }
          if (t == 0 && a == 0 && m == M - 1) {
            res.class_tp50[k] = static_cast<int>(tp);
            res.class_fp50[k] = static_cast<int>(fp);
          }
          res.recall[((static_cast<size_t>(t) * K + k) * A + a) * M + m] = nd ? rc.back() : 0.0;
          for (int j = nd - 1; j > 0; --j) pr[j - 1] = std::max(pr[j - 1], pr[j]);
          for (int r = 0; r < R; ++r) {
            // First detection whose recall reaches the threshold (searchsorted left);
            // thresholds beyond the final recall keep precision 0.
            const auto it = std::lower_bound(rc.begin(), rc.end(), p.recall_thresholds[r]);
            const double q = it == rc.end() ? 0.0 : pr[it - rc.begin()];
            res.precision[(((static_cast<size_t>(t) * R + r) * K + k) * A + a) * M + m] = q;
          }
        }
      }
    }
  }

  // ---- summarize ----
  auto find_t = [&](double thr) {
    for (int t = 0; t < T; ++t)
      if (std::abs(p.iou_thresholds[t] - thr) < 1e-12) return t;
    return -1;
  };
  auto find_m = [&](int md) {
    for (int m = 0; m < M; ++m)
      if (max_dets[m] == md) return m;
    return -1;
  };
  auto summarize = [&](bool ap, double iou_thr, int a, int md) {
    const int m = find_m(md);
    const int t0 = iou_thr < 0 ? 0 : find_t(iou_thr);
    const int t1 = iou_thr < 0 ? T : t0 + 1;
    if (m < 0 || t0 < 0 || a >= A) return -1.0;
    double sum = 0;
    size_t n = 0;
    for (int t = t0; t < t1; ++t)
      for (int k = 0; k < K; ++k) {
        if (ap) {
          for (int r = 0; r < R; ++r) {
            const double v = res.precision_at(t, r, k, a, m);
            if (v > -1) sum += v, ++n;
          }
        } else {
          const double v = res.recall_at(t, k, a, m);
          if (v > -1) sum += v, ++n;
        }
      }
    return n ? sum / n : -1.0;
  };
  const int m_last = max_dets.back();
  const int m0 = max_dets[0], m1 = max_dets[std::min(1, M - 1)];
  res.stats = {summarize(true, -1, 0, m_last),  summarize(true, 0.5, 0, m_last),
               summarize(true, 0.75, 0, m_last), summarize(true, -1, 1, m_last),
               summarize(true, -1, 2, m_last),  summarize(true, -1, 3, m_last),
               summarize(false, -1, 0, m0),     summarize(false, -1, 0, m1),
               summarize(false, -1, 0, m_last), summarize(false, -1, 1, m_last),
               summarize(false, -1, 2, m_last), summarize(false, -1, 3, m_last)};

  res.class_ap.assign(K, -1.0);
  res.class_ap50.assign(K, -1.0);
  for (int k = 0; k < K; ++k) {
    double sum = 0, sum50 = 0;
    int n = 0, n50 = 0;
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r) {
        const double v = res.precision_at(t, r, k, 0, M - 1);
        if (v <= -1) continue;
        sum += v, ++n;
        if (t == 0) sum50 += v, ++n50;
      }
    if (n) res.class_ap[k] = sum / n;
    if (n50) res.class_ap50[k] = sum50 / n50;
  }
  return res;
}

std::string coco_summary(const CocoEvalResult& r) {
  const CocoEvalParams& p = r.params;
  const int md = p.max_dets.back();
  const int m0 = p.max_dets[0], m1 = p.max_dets[std::min<size_t>(1, p.max_dets.size() - 1)];
  struct Line { bool ap; const char* iou; const char* area; int max_det; };
  const Line lines[12] = {{true, "0.50:0.95", "all", md},   {true, "0.50", "all", md},
                          {true, "0.75", "all", md},        {true, "0.50:0.95", "small", md},
                          {true, "0.50:0.95", "medium", md}, {true, "0.50:0.95", "large", md},
                          {false, "0.50:0.95", "all", m0},  {false, "0.50:0.95", "all", m1},
                          {false, "0.50:0.95", "all", md},  {false, "0.50:0.95", "small", md},
                          {false, "0.50:0.95", "medium", md}, {false, "0.50:0.95", "large", md}};
  std::string out;
  for (int i = 0; i < 12; ++i) {
    const Line& l = lines[i];
    out += fmt::format(" {:<18} {} @[ IoU={:<9} | area={:>6} | maxDets={:>3} ] = {:0.3f}\n",
                       l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)",
                       l.iou, l.area, l.max_det, r.stats[i]);
  }
  return out;
}

}  // namespace dl
