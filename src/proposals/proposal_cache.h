// Region proposals computed once and kept on disk. R-CNN, SPP-net and Fast R-CNN all
// take Selective Search's boxes as given input (R-CNN §2.1 precomputes them), and
// training visits every image many times: recomputing 0.05-1 s of segmentation and
// grouping per visit would dominate the run. A cache file is keyed by the image's
// pixels (not its name) and by the proposal settings, so an edited image or another
// preset never reads stale boxes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "image/image.h"

namespace dl {

struct ProposalSettings {
  std::string preset = "fast";  // selective_search_preset(): single, fast, quality
  uint64_t seed = 1;            // the ranking's random numbers
  int max_proposals = 2000;     // the best-ranked boxes kept (R-CNN uses ~2000)
};

// FNV-1a 64 over width, height, channels and pixels: the image part of the key.
uint64_t image_fingerprint(const Image& img);

// CACHE_DIR/<preset>-s<seed>-n<max>/<fingerprint as 16 hex digits>.props
std::string proposal_cache_path(const std::string& cache_dir, const Image& img,
                                const ProposalSettings& s);

// The ranked proposals (best first, at most max_proposals) of `img`: read from the cache
// when a valid file is there, otherwise computed with selective_search and written
// (temporary name, then rename). An unreadable or malformed cache file -- or one whose
// boxes could not be this image's proposals (plausible_proposals) -- is recomputed and
// replaced, never trusted. An empty cache_dir disables the cache.
std::vector<Box> cached_proposals(const Image& img, const ProposalSettings& s,
                                  const std::string& cache_dir);

// The file format, exposed for tests: "DLPROPS1", uint32 count, then count x 4 float32
// (x1, y1, x2, y2), little-endian. read returns false for anything else.
std::vector<uint8_t> encode_proposals(const std::vector<Box>& boxes);
bool decode_proposals(const std::vector<uint8_t>& bytes, std::vector<Box>& boxes);

// Boxes a proposal method could have given for a width x height image: at most
// max_count, every coordinate finite, x1 <= x2 and y1 <= y2, inside [0, width] x
// [0, height]. A cache entry that fails this was edited or damaged.
bool plausible_proposals(const std::vector<Box>& boxes, int width, int height, size_t max_count);

}  // namespace dl
