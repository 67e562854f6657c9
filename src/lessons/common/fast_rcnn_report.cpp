#include "lessons/common/fast_rcnn_report.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "lessons/common/report.h"
#include "util/timing.h"

namespace dl::cli {

using json = nlohmann::json;

FastRcnnEval evaluate_fast_rcnn(models::FastRcnn& net, const DetectionDataset& ds,
                                const ProposalOptions& po, const models::FastRcnnDetectOptions& d) {
  FastRcnnEval r;
  const ProposalEval pe = evaluate_with_proposals(
      ds, po, [&](const DetectionItem& item, const std::vector<Box>& props) {
        const double before = r.times.total();
        std::vector<Detection> dets = net.detect(item.image, props, d, &r.times);
        return ImageResult{dets, r.times.total() - before, 0.0};
      });
  r.e = pe.eval;
  r.proposals = static_cast<int64_t>(std::lround(pe.proposals_per_image * std::max<size_t>(1, ds.items.size())));
  return r;
}

namespace {

json eval_json(const FastRcnnEval& r, const DetectionDataset& ds) {
  const double n = std::max<size_t>(1, ds.items.size());
  json j = detection_eval_json(r.e, ds.class_names);
  j["proposals_per_image"] = r.proposals / n;
  j["seconds_per_image_without_proposals"] = r.times.total() / n;
  j["fc_seconds_per_image"] = r.times.fc / n;
  return j;
}

}  // namespace

void report_fast_rcnn_eval(const DetectionDataset& test, const ProposalOptions& po,
                           const FastRcnnEval& r, const FastRcnnEval& rs,
                           const models::FastRcnnSvd& svd, const CommonArgs& a) {
  const double n = std::max<size_t>(1, test.items.size());
  if (result_wanted(a)) {
    json j = eval_json(r, test);
    if (svd.fc6 > 0) {
      j["svd"] = eval_json(rs, test);
      j["svd"]["fc6_rank"] = svd.fc6;
      j["svd"]["fc7_rank"] = svd.fc7_rank();
    }
    if (output_result(a, "eval", j)) return;
  }
  fmt::print("{:<12} {:>7} {:>9}{}\n", "class", "objects", "VOC AP50",
             svd.fc6 > 0 ? fmt::format(" {:>9}", "SVD AP50") : "");
  // A class with no test object has no AP (stored as -1): "n/a", not "-100.0%".
  auto ap = [](const auto& v) {
    return v.num_gt == 0 ? fmt::format("{:>9}", "n/a") : fmt::format("{:>8.1f}%", 100 * v.ap);
  };
  for (size_t c = 0; c < r.e.voc.size() && c < test.class_names.size(); ++c)
    fmt::print("{:<12} {:>7} {}{}\n", test.class_names[c], r.e.voc[c].num_gt, ap(r.e.voc[c]),
               svd.fc6 > 0 ? " " + ap(rs.e.voc[c]) : "");
  fmt::print("{:<12} {:>7} {:>8.1f}%{}   (VOC mAP, all-point AP at IoU 0.5)\n\n", "mean", "",
             100 * r.e.voc_map50, svd.fc6 > 0 ? fmt::format(" {:>8.1f}%", 100 * rs.e.voc_map50) : "");
  fmt::print("{}\n", coco_summary(r.e.coco));
  fmt::print("{} images, {:.0f} proposals/image ({} preset): {:.4f} s/image excluding proposals "
             "(conv {:.4f}, RoI pool {:.4f}, FC {:.4f}, NMS {:.4f})\n",
             test.items.size(), r.proposals / n, po.preset, r.times.total() / n, r.times.conv / n,
             r.times.roi_pool / n, r.times.fc / n, r.times.nms / n);
  if (svd.fc6 > 0)
    fmt::print("truncated SVD (fc6 rank {}, fc7 rank {}): mAP {:.1f}% ({:+.1f} points), COCO AP "
               "{:.3f} ({:+.3f}), FC {:.4f} -> {:.4f} s/image ({:.2f}x), total {:.4f} s/image\n",
               svd.fc6, svd.fc7_rank(), 100 * rs.e.voc_map50, 100 * (rs.e.voc_map50 - r.e.voc_map50),
               rs.e.coco.stats[0], rs.e.coco.stats[0] - r.e.coco.stats[0], r.times.fc / n,
               rs.times.fc / n, r.times.fc / std::max(1e-12, rs.times.fc), rs.times.total() / n);
}

FastRcnnBench time_fast_rcnn(models::FastRcnn& net, const std::vector<BenchImage>& images,
                             const ProposalOptions& po, bool cached,
                             const models::FastRcnnSvd& svd) {
  FastRcnnBench b;
  b.images = static_cast<int64_t>(images.size());
  b.preset = po.preset;
  b.cached = cached;
  std::vector<std::vector<Box>> props;
  for (const auto& [name, img] : images) {
    const auto t0 = Clock::now();
    props.push_back(proposals_of(img, po, cached));
    b.proposal_seconds += seconds_since(t0);
    b.proposals += static_cast<int64_t>(props.back().size());
  }
  auto run = [&](models::FastRcnnStageTimes& st) {
    for (size_t i = 0; i < images.size(); ++i) net.detect(images[i].image, props[i], {}, &st);
  };
  models::FastRcnnStageTimes warm;
  run(warm);
  run(b.full);
  if (svd.fc6 > 0) {
    net.compress_fc(svd);
    run(warm);
    run(b.svd);
  }
  return b;
}

void report_fast_rcnn_bench(const FastRcnnBench& b, const models::FastRcnnSvd& svd, bool as_json) {
  const double n = static_cast<double>(b.images);
  const double t_props = b.proposal_seconds;
  const models::FastRcnnStageTimes &full = b.full, &comp = b.svd;
  auto stage_json = [&](const models::FastRcnnStageTimes& s) {
    return json({{"conv", s.conv / n},
                 {"roi_pool", s.roi_pool / n},
                 {"fc", s.fc / n},
                 {"nms", s.nms / n},
                 {"without_proposals", s.total() / n},
                 {"total", (s.total() + t_props) / n}});
  };
  if (as_json) {
    json j = {{"images", b.images},
              {"proposals_per_image", b.proposals / n},
              {"proposal_preset", b.preset},
              {"proposals_cached", b.cached},
              {"seconds_per_image", stage_json(full)}};
    j["seconds_per_image"]["proposals"] = t_props / n;
    if (svd.fc6 > 0) {
      j["svd"] = stage_json(comp);
      j["svd"]["proposals"] = t_props / n;
      j["svd"]["fc6_rank"] = svd.fc6;
      j["svd"]["fc7_rank"] = svd.fc7_rank();
      j["svd"]["fc_speedup"] = full.fc / std::max(1e-12, comp.fc);
    }
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{} images, {:.0f} proposals/image ({} preset{})\n", b.images, b.proposals / n,
             b.preset, b.cached ? ", from cache" : "");
  fmt::print("{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12} {:>10}\n", "model", "proposals",
             "conv", "RoI pool", "FC", "NMS", "total-props", "total");
  auto row = [&](const std::string& name, const models::FastRcnnStageTimes& s) {
    fmt::print("{:<10} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>12.4f} {:>10.4f}\n",
               name, t_props / n, s.conv / n, s.roi_pool / n, s.fc / n, s.nms / n, s.total() / n,
               (s.total() + t_props) / n);
  };
  row("full", full);
  if (svd.fc6 > 0) {
    row(fmt::format("svd {}/{}", svd.fc6, svd.fc7_rank()), comp);
    fmt::print("truncated SVD: FC {:.2f}x faster, total excluding proposals {:.2f}x\n",
               full.fc / std::max(1e-12, comp.fc), full.total() / std::max(1e-12, comp.total()));
  }
  fmt::print("(seconds per image)\n");
}

}  // namespace dl::cli
