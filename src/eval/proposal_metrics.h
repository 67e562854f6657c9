// How good are region proposals, before any classifier sees them?
//  - Recall at IoU t vs number of proposals N (Hosang et al. 2015, "What makes for
//    effective detection proposals?"): the fraction of ground-truth objects that at
//    least one of the N best-ranked proposals covers with IoU >= t (0.5 and 0.7).
//  - MABO (Uijlings et al. 2013, "Selective Search for Object Recognition", §5.1):
//    the Average Best Overlap of a class is the mean over its objects of the highest
//    IoU any proposal reaches; MABO is the mean of the classes' ABOs.
#pragma once
#include <vector>

#include "detection/boxes.h"

namespace dl {

struct ProposalImage {
  std::vector<Box> proposals;     // ranked, best first
  std::vector<Box> ground_truth;
  std::vector<int> labels;        // class per ground-truth box; empty = one class
};

// The highest IoU between `object` and the first top_n proposals (all when top_n < 0);
// 0 when there is none.
float best_overlap(const Box& object, const std::vector<Box>& proposals, int top_n = -1);

// Fraction of all ground-truth objects recalled; 0 when there are no objects. Throws
// std::invalid_argument when labels are given but do not match ground_truth in size.
double proposal_recall(const std::vector<ProposalImage>& images, int top_n, float iou_threshold);

struct ProposalRecallCurve {
  std::vector<int> num_proposals;
  std::vector<double> recall_50, recall_70;  // at IoU 0.5 and 0.7
};
ProposalRecallCurve proposal_recall_curve(const std::vector<ProposalImage>& images,
                                          const std::vector<int>& num_proposals);

struct MaboResult {
  double mabo = 0;                // mean over classes with objects; 0 when none
  std::vector<int> class_ids;     // sorted labels that occur
  std::vector<double> class_abo;  // ABO per class, in class_ids order
};
MaboResult mabo(const std::vector<ProposalImage>& images, int top_n = -1);

}  // namespace dl
