#include "eval/proposal_evaluation.h"

#include "proposals/dense_windows.h"
#include "tensor/rng.h"
#include "util/timing.h"

namespace dl {

ProposalEvaluation evaluate_proposals(const DetectionDataset& ds,
                                      const std::function<std::vector<Box>(const Image&)>& propose,
                                      const std::vector<int>& curve_n, uint64_t seed) {
  ProposalEvaluation e;
  const auto t0 = Clock::now();
  for (const DetectionItem& item : ds.items) {
    ProposalImage pi;
    pi.proposals = propose(item.image);
    pi.ground_truth = item.boxes;
    pi.labels = item.labels;
    e.images.push_back(std::move(pi));
  }
  e.seconds = seconds_since(t0);
  const std::vector<ProposalImage>& images = e.images;
  e.curve = proposal_recall_curve(images, curve_n);
  e.mabo = mabo(images);
  int64_t boxes = 0;
  for (const auto& im : images) boxes += im.proposals.size(), e.objects += im.ground_truth.size();
  e.boxes_per_image = images.empty() ? 0 : double(boxes) / images.size();
  e.recall50_1000 = proposal_recall(images, 1000, 0.5f);
  e.recall70_1000 = proposal_recall(images, 1000, 0.7f);
  e.recall50_all = proposal_recall(images, -1, 0.5f);
  e.recall70_all = proposal_recall(images, -1, 0.7f);
  e.mabo_1000 = mabo(images, 1000);

  std::vector<ProposalImage> windows = images;
  int64_t num_windows = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    Rng rng = Rng(seed).fork(i);
    windows[i].proposals = dense_windows(ds.items[i].image.width, ds.items[i].image.height, rng);
    num_windows += windows[i].proposals.size();
  }
  e.windows_curve = proposal_recall_curve(windows, curve_n);
  e.windows_per_image = windows.empty() ? 0 : double(num_windows) / windows.size();
  e.windows_recall50_all = proposal_recall(windows, -1, 0.5f);
  e.windows_recall70_all = proposal_recall(windows, -1, 0.7f);
  return e;
}

}  // namespace dl
