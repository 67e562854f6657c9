#include "lessons/common/compare_chart.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace dl::cli {

namespace {
const char* kColors[] = {"#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b"};

std::string header(double w, double h, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"20\" y=\"24\" font-size=\"15\">{}</text>\n",
      w, h, title);
}

std::string seconds_text(double s) {
  if (s < 0) return "n/a";
  if (s < 1) return fmt::format("{:.3g} s", s);
  if (s < 120) return fmt::format("{:.1f} s", s);
  return fmt::format("{:.1f} min", s / 60);
}

// One panel: a bar per method, its length proportional to the value.
// values[i] is methods[i]'s.
std::string panel(double x0, double y0, double width, const std::string& label,
                  const std::vector<MethodTiming>& m, const std::vector<double>& values) {
  const double bar_h = 22, gap = 10, name_w = 90;
  double vmax = 0;
  for (double v : values) vmax = std::max(vmax, v);
  if (vmax <= 0) vmax = 1;
  const double first = values[0];
  std::string s = fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", x0,
                              y0 - 8, label);
  for (size_t i = 0; i < m.size(); ++i) {
    const double v = values[i];
    const double y = y0 + i * (bar_h + gap);
    const double len = v > 0 ? (width - name_w - 110) * v / vmax : 0;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", x0 + name_w - 6,
                     y + 15, m[i].name);
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>\n",
                     x0 + name_w, y, len, bar_h, kColors[i % 6]);
    std::string text = seconds_text(v);
    // The speed-up over the first method, as the lecture's chart labels its bars.
    if (i > 0 && v > 0 && first > 0) text += fmt::format("  ({:.1f}x)", first / v);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{}</text>\n", x0 + name_w + len + 6, y + 15,
                     text);
  }
  return s;
}
}  // namespace

std::string svg_timing_bars(const std::string& title, const std::vector<MethodTiming>& methods) {
  const double W = 1200, rows = std::max<double>(1, methods.size()), P = W / 3;
  const double H = 70 + rows * 32 + 20;
  std::string s = header(W, H, title);
  std::vector<double> train, test, without;
  for (const MethodTiming& m : methods) {
    train.push_back(m.train_seconds);
    test.push_back(m.test_seconds);
    without.push_back(m.test_seconds_without_proposals);
  }
  // Without any training time (a test-time benchmark), two panels over the whole width.
  const bool trained = std::any_of(train.begin(), train.end(), [](double v) { return v >= 0; });
  const double x0 = trained ? P : 110, Q = trained ? P : (W - x0) / 2;  // room for the labels
  if (!methods.empty()) {
    if (trained) s += panel(20, 60, P - 20, "Training time", methods, train);
    s += panel(x0 + 10, 60, Q - 20, "Test time per image", methods, test);
    s += panel(x0 + Q + 10, 60, Q - 20, "... without proposals", methods, without);
  }
  return s + "</svg>\n";
}

namespace {

// One point of a scatter panel.
struct Point {
  std::string label;
  double seconds, accuracy;
  std::string colour;
  bool square;  // one-shot methods
};

// A scatter panel at (x0, y0), w x h: x test seconds per image (log scale, whole
// decades, so that "10x faster" is always the same distance), y accuracy from 0.
std::string scatter_panel(double x0, double y0, double w, double h, const std::string& title,
                          const std::string& accuracy_label, const std::vector<Point>& points) {
  const double L = 60, R = 30, T = 30, B = 50;
  double t0 = 1e300, t1 = -1e300, a1 = 0;
  for (const Point& p : points)
    if (p.seconds > 0) {
      t0 = std::min(t0, p.seconds), t1 = std::max(t1, p.seconds);
      a1 = std::max(a1, p.accuracy);
    }
  if (t0 > t1) t0 = 0.01, t1 = 1;
  const double d0 = std::floor(std::log10(t0)), d1 = std::max(d0 + 1, std::ceil(std::log10(t1)));
  a1 = a1 > 0 ? std::min(1.0, std::ceil(a1 * 10 + 0.5) / 10) : 1.0;
  auto px = [&](double t) { return x0 + L + (std::log10(t) - d0) / (d1 - d0) * (w - L - R); };
  auto py = [&](double a) { return y0 + h - B - a / a1 * (h - T - B); };
  std::string s;
  if (!title.empty())
    s += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", x0 + L,
                     y0 + T - 12, title);
  s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
                   x0 + L, y0 + h - B, x0 + w - R, y0 + h - B);
  s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
                   x0 + L, y0 + T, x0 + L, y0 + h - B);
  for (double d = d0; d <= d1; d += 1)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g} s</text>\n",
                     px(std::pow(10.0, d)), y0 + h - B + 16, std::pow(10.0, d));
  for (int i = 0; i <= 4; ++i)
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2g}</text>\n",
                     x0 + L - 6, py(a1 * i / 4) + 4, a1 * i / 4);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">test time per image "
                   "(log scale)</text>\n",
                   x0 + (L + w - R) / 2, y0 + h - 16);
  const double cy = y0 + (T + h - B) / 2, cx = x0 + 16;
  s += fmt::format("<text x=\"{}\" y=\"{}\" transform=\"rotate(-90 {} {})\" "
                   "text-anchor=\"middle\">{}</text>\n",
                   cx, cy, cx, cy, accuracy_label);
  for (const Point& p : points) {
    if (p.seconds <= 0 || p.accuracy < 0) continue;
    const double x = px(p.seconds), y = py(p.accuracy);
    if (p.square)
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"11\" height=\"11\" fill=\"{}\"/>",
                       x - 5.5, y - 5.5, p.colour);
    else
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\"/>", x, y,
                       p.colour);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x + 9, y - 8, p.label);
  }
  return s;
}

// The detectors in lecture order: a method keeps its colour in every chart.
const char* kLectureOrder[] = {"rcnn", "spp_net", "fast_rcnn",      "faster_rcnn",
                               "yolo", "ssd",     "sliding_window", "mask_rcnn"};
const char* kMethodColours[] = {"#d62728", "#ff7f0e", "#2ca02c", "#1f77b4",
                                "#9467bd", "#8c564b", "#7f7f7f", "#e377c2"};

std::string colour_of(const std::string& program, size_t fallback) {
  for (size_t i = 0; i < std::size(kLectureOrder); ++i)
    if (program == kLectureOrder[i]) return kMethodColours[i];
  return kColors[fallback % 6];
}

}  // namespace

std::string svg_speed_accuracy(const std::string& title, const std::string& accuracy_label,
                               const std::vector<MethodTiming>& methods) {
  const double W = 640, H = 420;
  std::vector<Point> points;
  for (size_t i = 0; i < methods.size(); ++i)
    points.push_back({methods[i].name, methods[i].test_seconds, methods[i].accuracy,
                      kColors[i % 6], false});
  return header(W, H, title) + scatter_panel(10, 20, W - 10, H - 20, "", accuracy_label, points) +
         "</svg>\n";
}

const std::vector<PaperResult>& paper_results() {
  static const std::vector<PaperResult> rows = {
      // Fast R-CNN (Girshick, ICCV 2015), Table 4: VGG16 trained on VOC07 trainval, a K40
      // GPU, test time without the proposals (Selective Search adds ~2 s per image).
      {"rcnn", "R-CNN", 0.660, 47.0, "Fast R-CNN paper, Table 4 (K40, w/o proposals)"},
      {"spp_net", "SPP-net", 0.631, 2.3, "Fast R-CNN paper, Table 4 (K40, w/o proposals)"},
      {"fast_rcnn", "Fast R-CNN", 0.669, 0.32, "Fast R-CNN paper, Table 4 (K40, w/o proposals)"},
      // SSD (Liu et al., ECCV 2016), Table 7 and YOLO (Redmon et al., CVPR 2016), Table 1:
      // trained on VOC07+12 trainval, a Titan X, batch 1, everything included.
      {"faster_rcnn", "Faster R-CNN", 0.732, 1.0 / 7, "SSD paper, Table 7 (VGG16, Titan X, 7 fps)"},
      {"yolo", "YOLO", 0.634, 1.0 / 45, "YOLO paper, Table 1 (Titan X, 45 fps)"},
      {"ssd", "SSD300", 0.743, 1.0 / 46, "SSD paper, Table 7 (Titan X, 46 fps, batch 1)"},
  };
  return rows;
}

std::string method_family(const std::string& program) {
  if (program == "yolo" || program == "ssd") return "one-shot";
  if (program == "sliding_window") return "sliding window";
  return "two-stage";
}

std::string svg_tradeoff(const std::string& title, const std::vector<MethodTiming>& measured,
                         const std::string& measured_label) {
  const double W = 1160, H = 490, P = W / 2;
  std::vector<Point> ours, papers;
  for (size_t i = 0; i < measured.size(); ++i)
    ours.push_back({measured[i].name, measured[i].test_seconds, measured[i].accuracy,
                    colour_of(measured[i].name, i), method_family(measured[i].name) == "one-shot"});
  for (size_t i = 0; i < paper_results().size(); ++i) {
    const PaperResult& r = paper_results()[i];
    papers.push_back({r.name, r.seconds_per_image, r.voc_map50, colour_of(r.program, i),
                      method_family(r.program) == "one-shot"});
  }
  std::string s = header(W, H, title);
  s += scatter_panel(0, 30, P, H - 70, measured_label, "VOC mAP@0.5", ours);
  s += scatter_panel(P, 30, P, H - 70, "the papers (VOC 2007 test, one GPU)", "VOC mAP@0.5",
                     papers);
  s += fmt::format("<text x=\"20\" y=\"{}\" font-size=\"11\">circle: two-stage (proposals, "
                   "then a head per region); square: one-shot (one dense head on the whole "
                   "image).</text>\n",
                   H - 22);
  s += fmt::format("<text x=\"20\" y=\"{}\" font-size=\"11\">papers: the R-CNN family from "
                   "Fast R-CNN's Table 4 (K40, without proposals); Faster R-CNN, YOLO, SSD300 "
                   "from YOLO's Table 1 and SSD's Table 7 (Titan X, everything included).</text>\n",
                   H - 8);
  return s + "</svg>\n";
}

}  // namespace dl::cli
