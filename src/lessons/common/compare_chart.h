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

// The lecture's speed/accuracy trade-off slide (Huang et al., CVPR 2017) needs the
// papers' own numbers beside ours. Each row is one paper's table, VOC 2007 test, a GPU of
// its day; `program` is the detlab program that implements the method.
struct PaperResult {
  std::string program, name;
  double voc_map50;           // 0..1
  double seconds_per_image;   // 1 / fps where the paper gives frames per second
  std::string source;         // the paper and table the numbers come from
};
const std::vector<PaperResult>& paper_results();

// "two-stage" (proposals, then a head on each), "one-shot" (a dense head on the
// whole image), "sliding window": the families the trade-off plot tells apart.
std::string method_family(const std::string& program);

// Two panels side by side, the same axes: measured here (left) and the papers' (right);
// a circle per two-stage method, a square per one-shot one, labelled, one colour per
// method in both panels.
std::string svg_tradeoff(const std::string& title, const std::vector<MethodTiming>& measured,
                         const std::string& measured_label);

}  // namespace dl::cli
