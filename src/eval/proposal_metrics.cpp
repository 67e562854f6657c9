#include "eval/proposal_metrics.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

namespace dl {

namespace {
void check_labels(const std::vector<ProposalImage>& images) {
  for (size_t i = 0; i < images.size(); ++i)
    if (!images[i].labels.empty() && images[i].labels.size() != images[i].ground_truth.size())
      throw std::invalid_argument("proposal metrics: image " + std::to_string(i) + " has " +
                                  std::to_string(images[i].labels.size()) + " labels for " +
                                  std::to_string(images[i].ground_truth.size()) + " objects");
}
}  // namespace

float best_overlap(const Box& object, const std::vector<Box>& proposals, int top_n) {
  const size_t n = top_n < 0 ? proposals.size()
                             : std::min(proposals.size(), static_cast<size_t>(top_n));
  float best = 0;
  for (size_t i = 0; i < n; ++i) best = std::max(best, box_iou(object, proposals[i]));
  return best;
}

double proposal_recall(const std::vector<ProposalImage>& images, int top_n, float iou_threshold) {
  check_labels(images);
  size_t found = 0, total = 0;
  for (const ProposalImage& im : images)
    for (const Box& g : im.ground_truth) {
      ++total;
      if (best_overlap(g, im.proposals, top_n) >= iou_threshold) ++found;
    }
  return total ? static_cast<double>(found) / total : 0.0;
}

ProposalRecallCurve proposal_recall_curve(const std::vector<ProposalImage>& images,
                                          const std::vector<int>& num_proposals) {
  ProposalRecallCurve c;
  c.num_proposals = num_proposals;
  for (int n : num_proposals) {
    c.recall_50.push_back(proposal_recall(images, n, 0.5f));
    c.recall_70.push_back(proposal_recall(images, n, 0.7f));
  }
  return c;
}

MaboResult mabo(const std::vector<ProposalImage>& images, int top_n) {
  check_labels(images);
  std::map<int, std::pair<double, int>> per_class;  // label -> (sum of best overlaps, count)
  for (const ProposalImage& im : images)
    for (size_t g = 0; g < im.ground_truth.size(); ++g) {
      auto& [sum, n] = per_class[im.labels.empty() ? 0 : im.labels[g]];
      sum += best_overlap(im.ground_truth[g], im.proposals, top_n);
      ++n;
    }
  MaboResult r;
  double total = 0;
  for (const auto& [label, sn] : per_class) {
    r.class_ids.push_back(label);
    r.class_abo.push_back(sn.first / sn.second);
    total += r.class_abo.back();
  }
  r.mabo = per_class.empty() ? 0.0 : total / per_class.size();
  return r;
}

}  // namespace dl
