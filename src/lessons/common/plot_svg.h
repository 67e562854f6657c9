// A minimal SVG line plot (training curves): axes, ticks, one polyline per series
// and a legend. No dependencies; the file is written atomically.
#pragma once
#include <string>
#include <vector>

namespace dl::cli {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

std::string svg_line_plot(const std::string& title, const std::string& xlabel,
                          const std::vector<Series>& series);
void write_svg_plot(const std::string& path, const std::string& title, const std::string& xlabel,
                    const std::vector<Series>& series);

}  // namespace dl::cli
