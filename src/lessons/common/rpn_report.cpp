#include "lessons/common/rpn_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "image/draw.h"
#include "lessons/common/proposal_pictures.h"
#include "lessons/common/recall_plot.h"
#include "lessons/common/report.h"

namespace dl::cli {

RpnRecall rpn_recall(models::FasterRcnn& net, const DetectionDataset& ds,
                     const ProposalOptions& po, const std::vector<int>& n) {
  RpnRecall r;
  r.ss_preset = po.preset;
  models::ProposalLayerOptions all;  // every anchor ranked; NMS 0.7 as at test time
  all.pre_nms_top_n = 1 << 30;
  all.post_nms_top_n = n.empty() ? 0 : *std::max_element(n.begin(), n.end());
  const std::vector<std::vector<Box>> ss = dataset_proposals(ds, po);
  std::vector<ProposalImage> rpn_images, ss_images;
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const DetectionItem& item = ds.items[i];
    rpn_images.push_back({net.proposals(item.image, all).boxes, item.boxes, item.labels});
    ss_images.push_back({ss[i], item.boxes, item.labels});
    r.rpn_per_image += static_cast<double>(rpn_images.back().proposals.size());
    r.ss_per_image += static_cast<double>(ss[i].size());
  }
  const double images = static_cast<double>(std::max<size_t>(1, ds.items.size()));
  r.rpn_per_image /= images;
  r.ss_per_image /= images;
  r.rpn = proposal_recall_curve(rpn_images, n);
  r.selective_search = proposal_recall_curve(ss_images, n);
  r.ss_recall50_all = proposal_recall(ss_images, -1, 0.5f);
  r.ss_recall70_all = proposal_recall(ss_images, -1, 0.7f);
  return r;
}

nlohmann::json rpn_recall_json(const RpnRecall& r) {
  return {{"num_proposals", r.rpn.num_proposals},
          {"rpn_recall_50", r.rpn.recall_50},
          {"rpn_recall_70", r.rpn.recall_70},
          {"selective_search_recall_50", r.selective_search.recall_50},
          {"selective_search_recall_70", r.selective_search.recall_70},
          {"selective_search_recall_50_all", r.ss_recall50_all},
          {"selective_search_recall_70_all", r.ss_recall70_all},
          {"selective_search_per_image", r.ss_per_image},
          {"selective_search_preset", r.ss_preset}};
}

void print_rpn_recall(const RpnRecall& r) {
  fmt::print("proposal recall (objects covered by one of the first N proposals):\n");
  fmt::print("{:>6} {:>10} {:>10} {:>12} {:>12}\n", "N", "RPN @0.5", "RPN @0.7", "SS @0.5",
             "SS @0.7");
  for (size_t i = 0; i < r.rpn.num_proposals.size(); ++i)
    fmt::print("{:>6} {:>9.1f}% {:>9.1f}% {:>11.1f}% {:>11.1f}%\n", r.rpn.num_proposals[i],
               100 * r.rpn.recall_50[i], 100 * r.rpn.recall_70[i],
               100 * r.selective_search.recall_50[i], 100 * r.selective_search.recall_70[i]);
  fmt::print("{:>6} {:>10} {:>10} {:>11.1f}% {:>11.1f}%   (Selective Search '{}', all {:.0f} "
             "boxes/image)\n",
             "all", "", "", 100 * r.ss_recall50_all, 100 * r.ss_recall70_all, r.ss_preset,
             r.ss_per_image);
}

void report_faster_rcnn_eval(const DetectionDataset& test, const DetectionEval& e,
                             const RpnRecall* recall, int proposals_per_image,
                             const CommonArgs& a, const std::string& plot_dir) {
  const double n = static_cast<double>(std::max<size_t>(1, test.items.size()));
  if (result_wanted(a)) {
    nlohmann::json j = detection_eval_json(e, test.class_names);
    j["proposals_per_image"] = proposals_per_image;
    j["seconds_per_image_without_proposals"] = (e.seconds - e.proposal_seconds) / n;
    if (recall) j["proposal_recall"] = rpn_recall_json(*recall);
    if (output_result(a, "eval", j)) return;
  }
  print_detection_eval(e, test.class_names);
  fmt::print("{} images: {:.4f} s/image, of which RPN + proposal layer {:.4f} s (at most {} "
             "proposals/image)\n\n",
             test.items.size(), e.seconds / n, e.proposal_seconds / n, proposals_per_image);
  if (!recall) return;
  print_rpn_recall(*recall);
  std::filesystem::create_directories(plot_dir);
  const std::string png = write_recall_plots(
      plot_dir + "/rpn_recall.svg", "RPN vs Selective Search: recall vs proposals",
      "RPN vs Selective Search", "RPN", recall->rpn, recall->selective_search, "selective search");
  fmt::print("plots: {} (+ .svg)\n", png);
}

int64_t save_rpn_pictures(models::FasterRcnn& net, const Image& img, const std::string& stem,
                          const models::ProposalLayerOptions& o, bool anchors, int proposals) {
  const models::RpnView v = net.run_rpn(img);
  const models::Proposals props = models::propose(v.out.objectness.value(), v.out.deltas.value(),
                                                  0, v.anchors, img.width, img.height, o);
  const int zoom = std::max(1, 384 / std::max(img.width, img.height));  // small scenes enlarged
  save_image(stem + ".objectness.png", objectness_map(img, v.out.objectness.value(), zoom));
  if (anchors) {
    const int gh = static_cast<int>(v.features.size(2)), gw = static_cast<int>(v.features.size(3));
    save_image(stem + ".anchors.png", draw_cell_anchors(img, v.anchors,
                                                        net.config.rpn.anchors_per_location(), gw,
                                                        gw / 2, gh / 2, zoom));
  }
  if (proposals > 0)
    save_image(stem + ".proposals.png", draw_ranked_boxes(img, props.boxes, proposals, zoom));
  return static_cast<int64_t>(props.boxes.size());
}

Image objectness_map(const Image& img, const Tensor& objectness, int zoom) {
  const int64_t k = objectness.size(1), h = objectness.size(2), w = objectness.size(3);
  Image out = zoom_nearest(img, zoom);
  for (uint8_t& p : out.pixels) p = static_cast<uint8_t>(p / 3);  // dimmed
  const double sx = double(img.width) / double(w), sy = double(img.height) / double(h);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      float best = -1e30f;
      for (int64_t a = 0; a < k; ++a) best = std::max(best, objectness[(a * h + y) * w + x]);
      const float p = 1.0f / (1.0f + std::exp(-best));
      // red (p = 0.5) to yellow (p = 1); below 0.5 nothing is drawn
      if (p < 0.5f) continue;
      const Color c{255, static_cast<uint8_t>(255 * (2 * p - 1)), 0};
      fill_rect(out, float(x * sx * zoom), float(y * sy * zoom), float((x + 1) * sx * zoom) - 1,
                float((y + 1) * sy * zoom) - 1, c, 0.25f + 0.5f * (2 * p - 1));
    }
  return out;
}

Image draw_cell_anchors(const Image& img, const std::vector<Box>& anchors, int k, int grid_w,
                        int cx, int cy, int zoom) {
  Image out = zoom_nearest(img, zoom);
  const size_t first = (static_cast<size_t>(cy) * grid_w + cx) * k;
  for (int a = 0; a < k && first + a < anchors.size(); ++a) {
    const Box& b = anchors[first + a];
    draw_rect(out, b.x1 * zoom, b.y1 * zoom, b.x2 * zoom, b.y2 * zoom, palette_color(a), 1);
  }
  if (first < anchors.size()) {
    const Box& b = anchors[first];
    fill_circle(out, b.cx() * zoom, b.cy() * zoom, 2.0f * zoom / 2, {255, 255, 255});
  }
  return out;
}

}  // namespace dl::cli
