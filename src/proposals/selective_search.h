// Selective Search (Uijlings, van de Sande, Gevers & Smeulders, "Selective Search for
// Object Recognition", IJCV 2013). Start from Felzenszwalb-Huttenlocher regions, then
// greedily merge the two most similar neighbouring regions until one is left (§3.1,
// Algorithm 1); every region ever formed is a proposal. Diversify by running this in
// several colour spaces, with several k, under several similarity strategies (§3.2),
// and rank the union with the paper's randomised hierarchy ranking (§3.3).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "image/image.h"
#include "proposals/color_spaces.h"
#include "proposals/graph_segmentation.h"

namespace dl {

constexpr int kColourBins = 25;   // per channel (§3.2 "Colour similarity")
constexpr int kOrientations = 8;  // Gaussian derivative directions, σ = 1 (§3.2 "Texture")
constexpr int kTextureBins = 10;  // per orientation per channel
constexpr float kTextureSigma = 1.0f;

// A region of the hierarchy: its size, tight box (x2, y2 exclusive, pixels) and its
// L1-normalised colour (channels x 25) and texture (channels x 8 x 10) histograms.
struct Region {
  int size = 0;
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::vector<float> colour, texture;
  int bbox_area() const { return (x2 - x1) * (y2 - y1); }
};

// ---- similarities (§3.2, eq. 1-4); all in [0, 1] -----------------------------------
float histogram_intersection(const std::vector<float>& a, const std::vector<float>& b);
float similarity_colour(const Region& a, const Region& b);   // eq. 1
float similarity_texture(const Region& a, const Region& b);  // eq. 2
// eq. 3: 1 - (size(a) + size(b)) / size(im): small regions merge first.
float similarity_size(const Region& a, const Region& b, int image_size);
// eq. 4: 1 - (size(BB_ab) - size(a) - size(b)) / size(im): regions that fill each
// other's gaps merge first.
float similarity_fill(const Region& a, const Region& b, int image_size);

// A strategy: which similarities are summed (eq. 5, a_i in {0, 1}).
struct Strategy {
  bool colour = true, texture = true, size = true, fill = true;
  std::string name() const;  // e.g. "C+T+S+F"
};
// "C+T+S+F", "T+S+F", "F", "S", ... (letters C, T, S, F joined by '+'); throws
// std::invalid_argument otherwise.
Strategy parse_strategy(const std::string& name);
float similarity(const Region& a, const Region& b, int image_size, const Strategy& s);

// The merged region r_t: size and box combine, histograms are the size-weighted mean
// C_t = (size(a) C_a + size(b) C_b) / (size(a) + size(b)) (§3.2), so merged features
// come from the parts without looking at pixels again.
Region merge_regions(const Region& a, const Region& b);

// Per-pixel texture bins of a colour-space image: for every channel c and orientation
// o, bins[(c * 8 + o) * W * H + pixel] in 0..9 (the response max(0, directional
// Gaussian derivative) scaled by its maximum over the image).
struct TextureBins {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> bins;
};
TextureBins texture_bins(const FloatImage& img);

// Initial regions of a segmentation with their features, and their neighbour pairs
// (a < b, 4-connected, sorted).
std::vector<Region> initial_regions(const Segmentation& seg, const FloatImage& img,
                                    const TextureBins& tex);
std::vector<std::pair<int, int>> neighbour_pairs(const Segmentation& seg);

// The hierarchy: regions[0 .. n-1] are the initial ones, each later one merges the pair
// merged_from[i - n]. Merging takes the most similar neighbouring pair; ties go to the
// smaller (a, b) indices.
struct Hierarchy {
  int num_initial = 0;
  std::vector<Region> regions;
  std::vector<std::pair<int, int>> merged_from;
};
// Fast path: a heap of neighbour similarities, stale entries skipped.
Hierarchy hierarchical_grouping(std::vector<Region> initial,
                                const std::vector<std::pair<int, int>>& neighbours,
                                int image_size, const Strategy& strategy);
// Reference (tests' oracle): scans every current neighbour pair for the best each step.
Hierarchy hierarchical_grouping_reference(std::vector<Region> initial,
                                          const std::vector<std::pair<int, int>>& neighbours,
                                          int image_size, const Strategy& strategy);

// ---- the whole method ------------------------------------------------------------
struct SelectiveSearchOptions {
  std::vector<ColorSpace> color_spaces{ColorSpace::HSV};
  std::vector<float> ks{100};
  std::vector<Strategy> strategies{Strategy{}};
  float sigma = 0.8f;  // Felzenszwalb smoothing
  int min_size = -1;   // components below this are merged; -1: min_size = k, as in the authors' code
  uint64_t seed = 1;   // the ranking's random numbers
};
// §5.2 / Table 5: "single" (HSV, k=100, C+T+S+F), "fast" (HSV, Lab; k 50, 100;
// C+T+S+F, T+S+F) and "quality" (HSV, Lab, rgI, H, I; k 50, 100, 150, 300;
// C+T+S+F, T+S+F, F, S). Throws std::invalid_argument for other names.
SelectiveSearchOptions selective_search_preset(const std::string& name);

// A preset's diversification (§3.4) with parts replaced; empty / negative = the preset's.
struct SelectiveSearchOverrides {
  std::vector<std::string> color_spaces, strategies;  // parse_color_space, parse_strategy names
  std::vector<float> ks;
  float sigma = -1;
  int min_size = -1;
};
// The preset, the overrides, and the ranking's seed. Throws std::invalid_argument for an
// unknown preset, colour space or strategy.
SelectiveSearchOptions selective_search_options(const std::string& preset,
                                                const SelectiveSearchOverrides& overrides,
                                                uint64_t seed);
// "HSV,Lab k=50,100 C+T+S+F,T+S+F sigma=0.8": what actually ran.
std::string describe_selective_search(const SelectiveSearchOptions& o);

struct Proposal {
  Box box;
  float rank_value = 0;  // v = RND x hierarchy position (smaller = better)
  int run = 0;           // index of the (colour space, k, strategy) run
};

struct SelectiveSearchResult {
  std::vector<Proposal> proposals;          // ranked best first, duplicate boxes removed
  std::vector<Segmentation> segmentations;  // per (colour space, k), in that order
  int num_runs = 0;
  int64_t boxes_before_dedup = 0;
};

// Runs (colour space, k, strategy) combinations in parallel (OpenMP) and merges them in
// a fixed order: the result is identical for any thread count.
SelectiveSearchResult selective_search(const Image& rgb, const SelectiveSearchOptions& options);

// The proposals' boxes, in rank order.
std::vector<Box> proposal_boxes(const SelectiveSearchResult& r);

}  // namespace dl
