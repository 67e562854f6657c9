#include "lessons/common/recall_plot.h"

#include <fmt/core.h>

#include <cmath>
#include <vector>

#include "image/draw.h"
#include "image/image.h"
#include "lessons/common/plot_svg.h"

namespace dl::cli {

namespace {

// x = log10 N from 1 to 5000, y = recall 0..1; solid lines IoU 0.5, thin lines IoU 0.7.
void write_recall_png(const std::string& path, const std::string& title,
                      const std::vector<Series>& series, const std::vector<Color>& colours) {
  const int W = 560, H = 360, left = 48, right = 16, top = 28, bottom = 40;
  Image img(W, H, 3, 255);
  const double xmax = std::log10(5000.0);
  auto px = [&](double x) { return left + static_cast<float>(x / xmax) * (W - left - right); };
  auto py = [&](double y) { return H - bottom - static_cast<float>(y) * (H - top - bottom); };
  const Color grid{220, 220, 220}, ink{40, 40, 40}, white{255, 255, 255};
  for (int i = 0; i <= 4; ++i) {
    draw_line(img, px(0), py(i / 4.0), px(xmax), py(i / 4.0), grid);
    draw_text(img, 6, static_cast<int>(py(i / 4.0)) - 4, fmt::format("{:.2f}", i / 4.0), ink, white);
  }
  for (int e = 0; e <= 3; ++e) {
    draw_line(img, px(e), py(0), px(e), py(1), grid);
    draw_text(img, static_cast<int>(px(e)) - 8, H - bottom + 6, fmt::format("{}", int(std::pow(10, e))), ink, white);
  }
  draw_text(img, W / 2 - 60, H - 18, "number of proposals N (log)", ink, white);
  draw_text(img, left, 8, title, ink, white);
  for (size_t s = 0; s < series.size(); ++s) {
    const float thick = s % 2 == 0 ? 2.5f : 1.0f;
    for (size_t i = 1; i < series[s].x.size(); ++i)
      draw_line(img, px(series[s].x[i - 1]), py(series[s].y[i - 1]), px(series[s].x[i]),
                py(series[s].y[i]), colours[s], thick);
    const int ly = H - bottom - 14 - 12 * static_cast<int>(series.size() - s);
    draw_line(img, W - 200, ly + 3, W - 182, ly + 3, colours[s], thick);
    draw_text(img, W - 176, ly, series[s].name, ink, white);
  }
  save_image(path, img);
}

}  // namespace

std::string write_recall_plots(const std::string& svg, const std::string& svg_title,
                               const std::string& png_title, const std::string& method,
                               const ProposalRecallCurve& curve,
                               const ProposalRecallCurve& wcurve, const std::string& baseline) {
  Series s50{method + " recall@0.5", {}, {}}, s70{method + " recall@0.7", {}, {}};
  Series w50{baseline + " recall@0.5", {}, {}}, w70{baseline + " recall@0.7", {}, {}};
  for (size_t i = 0; i < curve.num_proposals.size(); ++i) {
    const double x = std::log10(static_cast<double>(curve.num_proposals[i]));
    s50.x.push_back(x), s50.y.push_back(curve.recall_50[i]);
    s70.x.push_back(x), s70.y.push_back(curve.recall_70[i]);
    w50.x.push_back(x), w50.y.push_back(wcurve.recall_50[i]);
    w70.x.push_back(x), w70.y.push_back(wcurve.recall_70[i]);
  }
  write_svg_plot(svg, svg_title, "log10(number of proposals)", {s50, s70, w50, w70});
  const std::string png = svg.substr(0, svg.size() - 4) + ".png";
  write_recall_png(png, png_title, {s50, s70, w50, w70},
                   {{20, 90, 200}, {20, 90, 200}, {220, 90, 20}, {220, 90, 20}});
  return png;
}

void print_recall_table(const ProposalEvaluation& e) {
  fmt::print("  {:>6} {:>8} {:>8}   {:>8} {:>8}\n", "N", "SS@0.5", "SS@0.7", "win@0.5", "win@0.7");
  for (size_t i = 0; i < e.curve.num_proposals.size(); ++i)
    fmt::print("  {:>6} {:>8.3f} {:>8.3f}   {:>8.3f} {:>8.3f}\n", e.curve.num_proposals[i],
               e.curve.recall_50[i], e.curve.recall_70[i], e.windows_curve.recall_50[i],
               e.windows_curve.recall_70[i]);
  fmt::print("  {:>6} {:>8.3f} {:>8.3f}   {:>8.3f} {:>8.3f}\n", "all", e.recall50_all,
             e.recall70_all, e.windows_recall50_all, e.windows_recall70_all);
}

}  // namespace dl::cli
