// Region proposals as the R-CNN family takes them: the best-ranked Selective Search
// boxes of an image, read from the on-disk cache (proposal_cache.h) when they are there.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/boxes.h"
#include "image/image.h"

namespace dl {

struct ProposalOptions {
  std::string preset = "fast";      // selective_search_preset()
  int max_proposals = 500;          // R-CNN used ~2000 on 500x375 VOC photos; 128x128 scenes need fewer
  std::string cache_dir = "data/cache/proposals";  // '' disables the cache
  float min_side = 1;               // thinner boxes are dropped (nothing to pool or warp)
};

// One image's best-ranked proposals. The cache is always asked for the 2000 best (one
// cache key shared by every program) and cut to max_proposals here: the boxes are
// ranked best first, so that is the same as asking for fewer.
std::vector<Box> proposals_of(const Image& img, const ProposalOptions& o, bool use_cache = true);

// Every image's proposals: the first alone (it creates the cache directory), the rest in
// parallel (each image writes its own cache file). `done`, when given, is called after
// each image, from whichever thread computed it (a progress display).
std::vector<std::vector<Box>> dataset_proposals(const DetectionDataset& ds, const ProposalOptions& o,
                                                const std::function<void()>& done = {});

}  // namespace dl
