// The lecture's R-CNN / SPP-net / Fast R-CNN chart, drawn from measurements: one panel of
// horizontal bars for training time, one for test time per image with region proposals
// and one without them (the lecture's point: once the CNN is shared, proposals dominate),
// each bar labelled with its value and its speed-up over the first method; and a speed/accuracy scatter plot.
// Plain SVG, no dependencies.
#pragma once
#include <string>
#include <vector>

namespace dl::cli {

struct MethodTiming {
  std::string name;
  double train_seconds = -1;       // < 0: unknown (drawn as "n/a")
  double test_seconds = -1;        // per image, everything included
  double test_seconds_without_proposals = -1;  // the same minus computing the proposals
  double accuracy = -1;            // e.g. VOC mAP@0.5, for the scatter plot
};

std::string svg_timing_bars(const std::string& title, const std::vector<MethodTiming>& methods);
// x: test seconds per image (log scale), y: accuracy; one labelled point per method.
std::string svg_speed_accuracy(const std::string& title, const std::string& accuracy_label,
                               const std::vector<MethodTiming>& methods);

}  // namespace dl::cli
