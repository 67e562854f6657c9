#include "lessons/common/scan_bench.h"

#include <fmt/core.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "tensor/ops.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

int bench_window_scans(models::CropClassifier& net, const std::vector<BenchImage>& images,
                       const models::WindowScan& scan, bool json, bool quiet) {
  if (!quiet && !json)
    fmt::print("{:<36} {:>8} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}\n", "image", "windows",
               "conv cells", "crops s", "conv s", "speed-up", "(CPU)", "max |dp|");
  nlohmann::json rows = nlohmann::json::array();
  SlidingWindowConfig wc = scan.windows;
  wc.crop_size = net.config.input_size;
  try {  // warm-up: first-touch allocations
    auto lv = make_pyramid(images[0].image.width, images[0].image.height, wc);
    models::score_windows(net, images[0].image, lv, models::ScanMode::Conv);
  } catch (const std::invalid_argument& e) {
    throw FileError(images[0].name, e.what());
  }
  double sum_crops = 0, sum_conv = 0, sum_cpu_crops = 0, sum_cpu_conv = 0;
  for (const auto& [name, img] : images) {
    std::vector<PyramidLevel> levels;
    try {
      levels = make_pyramid(img.width, img.height, wc);
    } catch (const std::invalid_argument& e) {
      throw FileError(name, e.what());
    }
    // Wall time, and CPU time of all threads (steadier on a machine shared with others).
    auto t0 = Clock::now();
    std::clock_t c0 = std::clock();
    models::WindowScores crops =
        models::score_windows(net, img, levels, models::ScanMode::Crops, scan.crop_batch);
    const double t_crops = seconds_since(t0), cpu_crops = double(std::clock() - c0) / CLOCKS_PER_SEC;
    t0 = Clock::now();
    c0 = std::clock();
    models::WindowScores conv = models::score_windows(net, img, levels, models::ScanMode::Conv);
    const double t_conv = seconds_since(t0), cpu_conv = double(std::clock() - c0) / CLOCKS_PER_SEC;
    const float diff = max_abs_diff(crops.probs, conv.probs);
    sum_crops += t_crops;
    sum_conv += t_conv;
    sum_cpu_crops += cpu_crops;
    sum_cpu_conv += cpu_conv;
    rows.push_back({{"image", name},
                    {"width", img.width},
                    {"height", img.height},
                    {"levels", levels.size()},
                    {"windows", crops.windows},
                    {"conv_positions", conv.positions},
                    {"crops_seconds", t_crops},
                    {"conv_seconds", t_conv},
                    {"speedup", t_crops / t_conv},
                    {"crops_cpu_seconds", cpu_crops},
                    {"conv_cpu_seconds", cpu_conv},
                    {"cpu_speedup", cpu_crops / cpu_conv},
                    {"max_abs_prob_diff", diff}});
    if (!json)
      fmt::print("{:<36} {:>8} {:>10} {:>8.3f} {:>8.3f} {:>7.1f}x {:>7.1f}x {:>9.2g}\n", name,
                 crops.windows, conv.positions, t_crops, t_conv, t_crops / t_conv,
                 cpu_crops / cpu_conv, diff);
  }
  if (json) {
    fmt::print("{}\n", nlohmann::json({{"stride", wc.stride},
                             {"scales", wc.scales},
                             {"aspects", wc.aspects},
                             {"crop_batch", scan.crop_batch},
                             {"images", rows},
                             {"speedup", sum_crops / sum_conv},
                             {"cpu_speedup", sum_cpu_crops / sum_cpu_conv}})
                           .dump());
  } else {
    fmt::print("mean: crops {:.3f} s/image, conv {:.3f} s/image, speed-up {:.1f}x (CPU time "
               "{:.1f}x) (stride {}, {} scales x {} aspects, crop batch {})\n",
               sum_crops / images.size(), sum_conv / images.size(), sum_crops / sum_conv,
               sum_cpu_crops / sum_cpu_conv, wc.stride, wc.scales.size(), wc.aspects.size(),
               scan.crop_batch);
  }
  return 0;
}

}  // namespace dl::cli
