#include "lessons/common/paper_geometry.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "detection/nms.h"
#include "detection/roi_pool.h"
#include "detection/spp_pool.h"
#include "image/transforms.h"
#include "proposals/selective_search.h"
#include "tensor/conv.h"
#include "tensor/ops.h"
#include "tensor/pool.h"
#include "tensor/rng.h"
#include "lessons/common/compare_chart.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {
namespace {

constexpr int kStride = 16;  // conv5_3 of VGG16: four 2x2 poolings

struct Conv {
  Tensor w, b;
  int pad = 1;
};

// He initialisation: the activations keep their scale through 13 layers, as trained
// weights roughly do, so no layer sees denormals or infinities.
Conv make_conv(int in, int out, int k, Rng& rng) {
  return {normal({out, in, k, k}, 0.0f, std::sqrt(2.0f / float(in * k * k)), rng), zeros({out}), k / 2};
}

void relu_inplace(Tensor& t) {
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::max(p[i], 0.0f);
}

Tensor conv_relu(const Tensor& x, const Conv& c) {
  Conv2dParams p;
  p.pad_h = p.pad_w = c.pad;
  Tensor y = conv2d_forward(x, c.w, c.b, p);
  relu_inplace(y);
  return y;
}

Tensor max_pool2(const Tensor& x) { return max_pool2d_forward(x, Pool2dParams{}).y; }

// VGG16 "D": 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512.
struct Vgg16 {
  std::vector<Conv> convs;
  std::vector<bool> pool_after;
  Tensor fc6, fc7;        // [25088, 4096] and [4096, 4096]: 7 x 7 x 512 -> 4096 -> 4096
  Tensor spp_fc6;         // [25600, 4096]: SPP-net's 50 bins x 512
  explicit Vgg16(Rng& rng) {
    const int widths[] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
    const bool pools[] = {0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0};
    int in = 3;
    for (int i = 0; i < 13; ++i) {
      convs.push_back(make_conv(in, widths[i], 3, rng));
      pool_after.push_back(pools[i]);
      in = widths[i];
    }
    fc6 = normal({25088, 4096}, 0.0f, 0.01f, rng);
    fc7 = normal({4096, 4096}, 0.0f, 0.01f, rng);
    spp_fc6 = normal({25600, 4096}, 0.0f, 0.01f, rng);
  }
  // conv1_1 .. conv5_3 (stride 16), without pool5.
  Tensor features(Tensor x) const {
    for (size_t i = 0; i < convs.size(); ++i) {
      x = conv_relu(x, convs[i]);
      if (pool_after[i]) x = max_pool2(x);
    }
    return x;
  }
  // fc6 and fc7 with ReLU on [K, fc6 inputs] rows.
  Tensor head(const Tensor& pooled, const Tensor& w6) const {
    Tensor h = matmul(pooled, w6);
    relu_inplace(h);
    Tensor g = matmul(h, fc7);
    relu_inplace(g);
    return g;
  }
};

Tensor rois_of(const std::vector<Box>& boxes) {
  Tensor r({static_cast<int64_t>(boxes.size()), 5});
  float* p = r.data();
  for (size_t i = 0; i < boxes.size(); ++i) {
    p[5 * i + 1] = boxes[i].x1, p[5 * i + 2] = boxes[i].y1;
    p[5 * i + 3] = boxes[i].x2, p[5 * i + 4] = boxes[i].y2;
  }
  return r;
}

}  // namespace

PaperGeometryTimes time_paper_geometry(const Image& photo, const PaperGeometryOptions& o) {
  PaperGeometryTimes t;
  const double s = double(o.shorter_side) / std::min(photo.width, photo.height);
  const Image img = resize_bilinear(photo, std::max(1, int(std::lround(photo.width * s))),
                                    std::max(1, int(std::lround(photo.height * s))));
  t.width = img.width, t.height = img.height;
  Rng rng(o.seed);
  const Vgg16 net(rng);
  const Tensor x = image_to_tensor(img).reshape({1, 3, img.height, img.width});

  // Selective Search, for real, on the resized photo.
  const auto t_ss = Clock::now();
  std::vector<Box> boxes = proposal_boxes(selective_search(img, selective_search_preset("fast")));
  const double ss_seconds = seconds_since(t_ss);
  t.selective_search_boxes = static_cast<int>(boxes.size());
  if (static_cast<int>(boxes.size()) > o.proposals) boxes.resize(o.proposals);
  const int n = static_cast<int>(boxes.size());

  // The shared conv layers: a warm-up pass (first-touch page faults), then the timed one.
  net.features(x);
  const auto t_conv = Clock::now();
  const Tensor map = net.features(x);
  t.conv_seconds = seconds_since(t_conv);
  const int map_h = static_cast<int>(map.size(2)), map_w = static_cast<int>(map.size(3));

  // R-CNN: every proposal is its own 224 x 224 image (§2.1, no context padding here).
  t.rcnn_sample = std::min(o.rcnn_sample, n);
  double rcnn_sample_seconds = 0;
  for (int i = 0; i < t.rcnn_sample; ++i) {
    const Box& b = boxes[i];
    const auto t0 = Clock::now();
    const Image crop = warp_region(img, b.x1, b.y1, b.x2, b.y2, 224, 224);
    const Tensor f = max_pool2(net.features(image_to_tensor(crop).reshape({1, 3, 224, 224})));
    net.head(f.reshape({1, -1}), net.fc6);
    rcnn_sample_seconds += seconds_since(t0);
  }
  PaperGeometryMethod rcnn{"rcnn", ss_seconds, 0, true, n};
  rcnn.network_seconds = t.rcnn_sample ? rcnn_sample_seconds / t.rcnn_sample * n : 0;

  // SPP-net (§3.1): one pyramid of {6, 3, 2, 1} bins per proposal on the shared map.
  const auto t_spp = Clock::now();
  net.head(spp_pool_forward(map, spp_rois(boxes, 0, kStride, map_w, map_h), {6, 3, 2, 1}), net.spp_fc6);
  const PaperGeometryMethod spp{"spp_net", ss_seconds, t.conv_seconds + seconds_since(t_spp), false, n};

  // Fast R-CNN (§2.1): 7 x 7 RoI max pooling per proposal, then fc6 / fc7.
  const Tensor rois = rois_of(boxes);
  const auto t_fast = Clock::now();
  net.head(roi_pool_forward(map, rois, 7, 7, 1.0f / kStride, false).y.reshape({n, -1}), net.fc6);
  const PaperGeometryMethod fast{"fast_rcnn", ss_seconds, t.conv_seconds + seconds_since(t_fast), false, n};

  // Faster R-CNN (§3.1): a 3x3 conv of 512 and two 1x1 convs for k = 9 anchors
  // (3 scales x 3 ratios); the proposal layer takes the top 6000 by objectness, NMS 0.7,
  // keeps 300 (§3.3 / §4). The anchors stand in for the decoded boxes: decoding is a few
  // multiplications per anchor beside the NMS.
  const Conv rpn_conv = make_conv(512, 512, 3, rng), rpn_cls = make_conv(512, 9, 1, rng),
             rpn_box = make_conv(512, 36, 1, rng);
  const auto t_rpn = Clock::now();
  const Tensor hidden = conv_relu(map, rpn_conv);
  Conv2dParams p1;
  const Tensor objectness = conv2d_forward(hidden, rpn_cls.w, rpn_cls.b, p1);
  conv2d_forward(hidden, rpn_box.w, rpn_box.b, p1);
  std::vector<Box> anchors;
  std::vector<float> scores;
  for (int a = 0; a < 9; ++a)
    for (int y = 0; y < map_h; ++y)
      for (int xx = 0; xx < map_w; ++xx) {
        const float side = 128.0f * float(1 << (a / 3)), ratio = 0.5f * float(1 << (a % 3));
        const float w = side / std::sqrt(ratio), h = side * std::sqrt(ratio);
        const float cx = (xx + 0.5f) * kStride, cy = (y + 0.5f) * kStride;
        anchors.push_back({std::max(0.0f, cx - w / 2), std::max(0.0f, cy - h / 2),
                           std::min(float(img.width), cx + w / 2), std::min(float(img.height), cy + h / 2)});
        scores.push_back(objectness.data()[(int64_t(a) * map_h + y) * map_w + xx]);
      }
  std::vector<int> order(anchors.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t top = std::min<size_t>(6000, order.size());
  std::partial_sort(order.begin(), order.begin() + top, order.end(),
                    [&](int i, int j) { return scores[i] > scores[j]; });
  std::vector<Box> pre;
  std::vector<float> pre_scores;
  for (size_t i = 0; i < top; ++i) pre.push_back(anchors[order[i]]), pre_scores.push_back(scores[order[i]]);
  std::vector<Box> rpn_boxes;
  for (int k : nms(pre, pre_scores, 0.7, o.rpn_proposals)) rpn_boxes.push_back(pre[k]);
  const double rpn_seconds = seconds_since(t_rpn);
  const int m = static_cast<int>(rpn_boxes.size());
  const auto t_head = Clock::now();
  net.head(roi_pool_forward(map, rois_of(rpn_boxes), 7, 7, 1.0f / kStride, false).y.reshape({m, -1}), net.fc6);
  const PaperGeometryMethod faster{"faster_rcnn", rpn_seconds, t.conv_seconds + seconds_since(t_head), false, m};

  t.methods = {rcnn, spp, fast, faster};
  return t;
}

namespace {

// The papers' test times per image (VGG16, a GPU of 2015), proposals included and not:
// Fast R-CNN (Girshick, ICCV 2015) Table 4 gives R-CNN 47.0 s, SPPnet 2.3 s and Fast
// R-CNN 0.32 s without proposals, and "Selective Search ... 2 s" per image on a CPU
// (§4.1's footnote figure the lecture's chart adds); Faster R-CNN (Ren et al., NIPS 2015)
// Table 5: 198 ms with its RPN, against 1830 ms for Selective Search + Fast R-CNN.
struct PaperTime {
  const char* program;
  double with_proposals, without;
};
const PaperTime kPaperTimes[] = {
    {"rcnn", 49.0, 47.0}, {"spp_net", 4.3, 2.3}, {"fast_rcnn", 2.3, 0.32}, {"faster_rcnn", 0.198, 0.198}};

}  // namespace

int report_paper_geometry(const PaperGeometryTimes& t, const std::string& photo, bool json,
                          const std::string& out_dir) {
  namespace fs = std::filesystem;
  nlohmann::json rows = nlohmann::json::array();
  std::vector<MethodTiming> bars;
  const PaperGeometryMethod& ref = t.methods.front();
  for (size_t i = 0; i < t.methods.size(); ++i) {
    const PaperGeometryMethod& m = t.methods[i];
    const double total = m.proposal_seconds + m.network_seconds;
    rows.push_back({{"method", m.name},
                    {"proposals_per_image", m.proposals},
                    {"test_seconds_per_image", total},
                    {"test_seconds_per_image_without_proposals", m.network_seconds},
                    {"speedup", (ref.proposal_seconds + ref.network_seconds) / total},
                    {"speedup_without_proposals", ref.network_seconds / m.network_seconds},
                    {"extrapolated", m.extrapolated},
                    {"paper_seconds_per_image", kPaperTimes[i].with_proposals},
                    {"paper_seconds_per_image_without_proposals", kPaperTimes[i].without}});
    bars.push_back({m.extrapolated ? m.name + " (extrapolated)" : m.name, -1, total, m.network_seconds, -1});
  }
  const nlohmann::json doc = {{"geometry", "paper"},
                              {"photo", photo},
                              {"width", t.width},
                              {"height", t.height},
                              {"backbone", "VGG16, random weights"},
                              {"selective_search_boxes", t.selective_search_boxes},
                              {"conv_seconds", t.conv_seconds},
                              {"rcnn_crops_timed", t.rcnn_sample},
                              {"methods", rows}};
  fs::create_directories(out_dir);
  const std::string json_path = (fs::path(out_dir) / "compare_paper_geometry.json").string();
  const std::string svg_path = (fs::path(out_dir) / "compare_paper_geometry.svg").string();
  write_file_atomic(json_path, doc.dump(2) + "\n");
  write_file_atomic(svg_path, svg_timing_bars(fmt::format("At the papers' geometry: {} x {} photo, VGG16, "
                                                          "{} proposals (this CPU)",
                                                          t.width, t.height, ref.proposals),
                                              bars));
  if (json) {
    fmt::print("{}\n", doc.dump());
    return 0;
  }
  fmt::print("{} at {} x {}, VGG16 (random weights), Selective Search fast: {} boxes, {} used; "
             "conv layers {:.2f} s\n",
             photo, t.width, t.height, t.selective_search_boxes, ref.proposals, t.conv_seconds);
  fmt::print("{:<13} {:>9} {:>12} {:>14} {:>9} {:>11}   {:>15}\n", "method", "proposals", "test/image",
             "w/o proposals", "speed-up", "(w/o prop.)", "paper (w/o)");
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    fmt::print("{:<13} {:>9} {:>10.2f} s {:>12.3f} s {:>8.1f}x {:>10.1f}x   {:>6.2f} s ({:.2f} s){}\n",
               r["method"].get<std::string>(), r["proposals_per_image"].get<int>(),
               r["test_seconds_per_image"].get<double>(),
               r["test_seconds_per_image_without_proposals"].get<double>(), r["speedup"].get<double>(),
               r["speedup_without_proposals"].get<double>(), kPaperTimes[i].with_proposals,
               kPaperTimes[i].without, t.methods[i].extrapolated ? "  *" : "");
  }
  fmt::print("* extrapolated: {} of the {} crops run through VGG16, the time scaled by the count\n",
             t.rcnn_sample, ref.proposals);
  fmt::print("written {} and {}\n", json_path, svg_path);
  return 0;
}

}  // namespace dl::cli
