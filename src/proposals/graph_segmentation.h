// Efficient graph-based image segmentation (Felzenszwalb & Huttenlocher, IJCV 2004).
// Pixels are the vertices of an 8-connected grid graph; an edge's weight is the colour
// distance between its two pixels after Gaussian smoothing. Kruskal-like, edges are
// visited by increasing weight and two components merge unless the edge is evidence
// of a boundary between them (§3.1, Algorithm 1, §4.1). Selective Search uses the
// result as its initial regions (Uijlings et al. 2013, §3.1).
#pragma once
#include <cstdint>
#include <vector>

#include "image/image.h"
#include "proposals/color_spaces.h"

namespace dl {

struct SegmentationOptions {
  float sigma = 0.8f;  // Gaussian smoothing before the edge weights (§4.1); 0 = none
  float k = 100.0f;    // threshold scale: larger k prefers larger components (§3.2)
  int min_size = 0;    // components smaller than this are merged afterwards (§4.1)
};

struct Segmentation {
  int width = 0, height = 0;
  int num_segments = 0;
  std::vector<int> labels;  // row-major, 0 .. num_segments-1 in raster order of first pixel
};

// One component C of the growing forest: |C| pixels and Int(C), the largest weight in
// its minimum spanning tree (eq. 1) — the largest edge merged into it so far.
struct Component {
  int size = 1;
  float internal = 0;
};

// The threshold function τ(C) = k / |C| (eq. 5): small components need stronger
// evidence (a larger edge) to count as separated from their neighbours.
float threshold_tau(const Component& c, float k);

// THE MERGE CRITERION (eq. 3–4). Visiting edges in increasing order, the edge of weight
// w is the smallest one between C1 and C2, i.e. Dif(C1, C2). There is a boundary,
// D(C1, C2) = true, when Dif(C1, C2) > MInt(C1, C2) = min(Int(C1) + τ(C1), Int(C2) + τ(C2));
// returns true when there is NO boundary, i.e. the components should merge.
bool merge_criterion(float w, const Component& c1, const Component& c2, float k);

// Disjoint-set forest with union by rank and path compression (§4: "we use a disjoint-set
// forest with union by rank and path compression"). It also keeps each root's Component.
class DisjointSets {
 public:
  explicit DisjointSets(int n);
  int find(int x);
  // Joins the sets of roots a and b, recording `w` as the new Int; returns the new root.
  int join(int a, int b, float w);
  const Component& component(int root) const { return comp_[root]; }
  int num_sets() const { return sets_; }

 private:
  std::vector<int> parent_, rank_;
  std::vector<Component> comp_;
  int sets_;
};

// Separable Gaussian blur of every channel (Felzenszwalb's kernel: radius ceil(4σ),
// borders clamped). σ <= 0 returns the input.
FloatImage gaussian_smooth(const FloatImage& img, float sigma);

// The smoothed image's 8-connected grid graph, edges sorted by increasing weight (ties
// by edge index, so the order is the same on every platform). Building it is most of
// the work, and it does not depend on k: Selective Search segments one graph with
// several k values.
struct GridGraph {
  int width = 0, height = 0;
  std::vector<uint64_t> keys;  // (weight bits << 32 | edge index), sorted
  std::vector<int> a, b;       // edge index -> its two pixels
  // The edges in sorted order, gathered once so that segmenting reads them sequentially.
  struct Edge {
    int a, b;
    float w;
  };
  std::vector<Edge> sorted;
};
GridGraph build_grid_graph(const FloatImage& img, float sigma);
// Algorithm 1 plus the min_size post-processing on a built graph (options.sigma unused).
Segmentation segment_graph(const GridGraph& graph, const SegmentationOptions& options);

// Segments `img` as is: its channel values set the scale of the edge weights and so of
// k (the paper's k values assume 0..255 pixel values).
Segmentation graph_segmentation(const FloatImage& img, const SegmentationOptions& options);
// An 8-bit image (any channel count) with its byte values as the scale.
Segmentation graph_segmentation(const Image& img, const SegmentationOptions& options);

}  // namespace dl
