#include "eval/detection_eval.h"

#include <fmt/core.h>

#include <algorithm>

#include "data/rle.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl {

DetectionEval evaluate_detector(const DetectionDataset& test,
                                const std::function<ImageResult(const DetectionItem&)>& detect) {
  // Nothing to measure: AP over no images is not a number to print.
  if (test.items.empty()) throw FileError(test.dir, "the test set has no images");
  DetectionEval e;
  std::vector<CocoAnnotation> results, segm_results;
  int64_t id = 1;
  for (const auto& item : test.items) {
    const ImageResult r = detect(item);
    e.seconds += r.seconds;
    e.proposal_seconds += r.proposal_seconds;
    for (const Detection& d : r.detections) {
      CocoAnnotation a;
      a.id = id++;
      a.image_id = item.image_id;
      a.category_id = test.category_ids[d.cls];
      a.bbox = {d.box.x1, d.box.y1, d.box.width(), d.box.height()};
      a.area = a.bbox[2] * a.bbox[3];
      a.score = d.score;
      results.push_back(a);
      if (d.mask.empty()) continue;
      // The mask as COCO RLE; its area decides the detection's area range (segm).
      Mask m(item.image.height, item.image.width);
      if (d.mask.size() != m.data.size())
        throw std::invalid_argument("evaluate_detector: a mask is not image-sized");
      m.data = d.mask;
      a.segmentation.kind = CocoSegmentation::Kind::CompressedRle;
      a.segmentation.rle = rle_encode(m);
      a.area = static_cast<double>(rle_area(a.segmentation.rle));
      segm_results.push_back(std::move(a));
    }
  }
  // test.coco holds the loaded images only (load_detection_dataset trims it for --limit).
  e.voc = voc_evaluate(test.coco, results, 0.5f);
  e.voc_map50 = voc_mean_ap(e.voc);
  e.coco = coco_evaluate(test.coco, results);
  e.has_masks = !segm_results.empty();
  if (e.has_masks) e.coco_segm = coco_evaluate(test.coco, segm_results, CocoIouType::Segm);
  e.images = static_cast<int64_t>(test.items.size());
  e.detections = static_cast<int64_t>(results.size());
  return e;
}

ProposalEval evaluate_with_proposals(
    const DetectionDataset& test, const ProposalOptions& po,
    const std::function<ImageResult(const DetectionItem&, const std::vector<Box>&)>& detect) {
  if (test.items.empty()) throw FileError(test.dir, "the test set has no images");
  const auto t0 = Clock::now();
  const std::vector<std::vector<Box>> props = dataset_proposals(test, po);
  const double n = static_cast<double>(std::max<size_t>(1, test.items.size()));
  const double each = seconds_since(t0) / n;
  ProposalEval r;
  size_t i = 0;
  int64_t count = 0;
  r.eval = evaluate_detector(test, [&](const DetectionItem& item) {
    const std::vector<Box>& p = props[i++];
    count += static_cast<int64_t>(p.size());
    ImageResult res = detect(item, p);
    res.seconds += each;
    res.proposal_seconds = each;
    return res;
  });
  r.proposals_per_image = count / n;
  return r;
}

nlohmann::json detection_eval_json(const DetectionEval& e, const std::vector<std::string>& classes) {
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < e.voc.size() && c < classes.size(); ++c)
    per_class[classes[c]] = {{"voc_ap50", e.voc[c].ap}, {"num_gt", e.voc[c].num_gt}};
  const double n = static_cast<double>(std::max<int64_t>(1, e.images));
  nlohmann::json j = {{"images", e.images},
          {"voc_map50", e.voc_map50},
          {"coco_ap", e.coco.stats[0]},
          {"coco_ap50", e.coco.stats[1]},
          {"coco_ap75", e.coco.stats[2]},
          {"coco_stats", e.coco.stats},
          {"seconds_per_image", e.seconds / n},
          {"proposal_seconds_per_image", e.proposal_seconds / n},
          {"detections", e.detections},
          {"per_class", per_class}};
  if (e.has_masks) {
    j["mask_ap"] = e.coco_segm.stats[0];
    j["mask_ap50"] = e.coco_segm.stats[1];
    j["mask_ap75"] = e.coco_segm.stats[2];
    j["mask_stats"] = e.coco_segm.stats;
  }
  return j;
}

void print_detection_eval(const DetectionEval& e, const std::vector<std::string>& classes) {
  fmt::print("{:<12} {:>6} {:>9}\n", "class", "objects", "VOC AP50");
  for (size_t c = 0; c < e.voc.size() && c < classes.size(); ++c)
    if (e.voc[c].num_gt == 0)  // no object of the class: AP is undefined (stored as -1)
      fmt::print("{:<12} {:>6} {:>9}\n", classes[c], 0, "n/a");
    else
      fmt::print("{:<12} {:>6} {:>8.1f}%\n", classes[c], e.voc[c].num_gt, 100 * e.voc[c].ap);
  fmt::print("{:<12} {:>6} {:>8.1f}%   (VOC mAP, all-point AP at IoU 0.5)\n\n", "mean", "",
             100 * e.voc_map50);
  fmt::print("{}\n", coco_summary(e.coco));
  if (e.has_masks) fmt::print("masks (COCO segm):\n{}\n", coco_summary(e.coco_segm));
}

}  // namespace dl
