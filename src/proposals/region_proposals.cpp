#include "proposals/region_proposals.h"

#include "proposals/proposal_cache.h"

namespace dl {

std::vector<Box> proposals_of(const Image& img, const ProposalOptions& o, bool use_cache) {
  ProposalSettings s;
  s.preset = o.preset;
  s.max_proposals = 2000;
  std::vector<Box> out;
  for (const Box& b : cached_proposals(img, s, use_cache ? o.cache_dir : std::string())) {
    if (static_cast<int>(out.size()) >= o.max_proposals) break;
    if (b.width() >= o.min_side && b.height() >= o.min_side) out.push_back(b);
  }
  return out;
}

std::vector<std::vector<Box>> dataset_proposals(const DetectionDataset& ds, const ProposalOptions& o,
                                                const std::function<void()>& done) {
  std::vector<std::vector<Box>> out(ds.items.size());
  if (out.empty()) return out;
  out[0] = proposals_of(ds.items[0].image, o);
  if (done) done();
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 1; i < static_cast<int64_t>(out.size()); ++i) {
    out[i] = proposals_of(ds.items[i].image, o);
    if (done) done();
  }
  return out;
}

}  // namespace dl
