#include "lessons/common/compare_chart.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

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
  if (!methods.empty()) {
    s += panel(20, 60, P - 20, "Training time", methods, train);
    s += panel(P + 10, 60, P - 20, "Test time per image", methods, test);
    s += panel(2 * P + 10, 60, P - 20, "... without proposals", methods, without);
  }
  return s + "</svg>\n";
}

std::string svg_speed_accuracy(const std::string& title, const std::string& accuracy_label,
                               const std::vector<MethodTiming>& methods) {
  const double W = 640, H = 420, L = 70, R = 40, T = 40, B = 60;
  double t0 = 1e300, t1 = -1e300, a1 = 0;
  for (auto& m : methods)
    if (m.test_seconds > 0) {
      t0 = std::min(t0, m.test_seconds), t1 = std::max(t1, m.test_seconds);
      a1 = std::max(a1, m.accuracy);
    }
  if (t0 > t1) t0 = 0.01, t1 = 1;
  // Whole decades on the log axis, so that "10x faster" is always the same distance.
  const double d0 = std::floor(std::log10(t0)), d1 = std::max(d0 + 1, std::ceil(std::log10(t1)));
  a1 = a1 > 0 ? std::min(1.0, std::ceil(a1 * 10 + 0.5) / 10) : 1.0;
  auto px = [&](double t) { return L + (std::log10(t) - d0) / (d1 - d0) * (W - L - R); };
  auto py = [&](double a) { return H - B - a / a1 * (H - T - B); };
  std::string s = header(W, H, title);
  s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", L, H - B,
                   W - R, H - B);
  s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", L, T, L,
                   H - B);
  for (double d = d0; d <= d1; d += 1)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g} s</text>\n",
                     px(std::pow(10.0, d)), H - B + 16, std::pow(10.0, d));
  for (int i = 0; i <= 4; ++i)
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2g}</text>\n", L - 6,
                     py(a1 * i / 4) + 4, a1 * i / 4);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">test time per image "
                   "(log scale)</text>\n",
                   (L + W - R) / 2, H - 20);
  s += fmt::format("<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" "
                   "text-anchor=\"middle\">{}</text>\n",
                   (T + H - B) / 2, (T + H - B) / 2, accuracy_label);
  for (size_t i = 0; i < methods.size(); ++i) {
    const auto& m = methods[i];
    if (m.test_seconds <= 0 || m.accuracy < 0) continue;
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                     px(m.test_seconds), py(m.accuracy), kColors[i % 6], px(m.test_seconds) + 9,
                     py(m.accuracy) - 8, m.name);
  }
  return s + "</svg>\n";
}

}  // namespace dl::cli
