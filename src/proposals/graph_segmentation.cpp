#include "proposals/graph_segmentation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/tensor.h"

namespace dl {

float threshold_tau(const Component& c, float k) { return k / static_cast<float>(c.size); }

bool merge_criterion(float w, const Component& c1, const Component& c2, float k) {
  const float minimum_internal_difference =
      std::min(c1.internal + threshold_tau(c1, k), c2.internal + threshold_tau(c2, k));
  return w <= minimum_internal_difference;
}

DisjointSets::DisjointSets(int n) : parent_(n), rank_(n, 0), comp_(n), sets_(n) {
  for (int i = 0; i < n; ++i) parent_[i] = i;
}

int DisjointSets::find(int x) {
  int root = x;
  while (parent_[root] != root) root = parent_[root];
  while (parent_[x] != root) {  // path compression
    const int next = parent_[x];
    parent_[x] = root;
    x = next;
  }
  return root;
}

int DisjointSets::join(int a, int b, float w) {
  if (rank_[a] < rank_[b]) std::swap(a, b);
  parent_[b] = a;
  if (rank_[a] == rank_[b]) rank_[a]++;
  comp_[a].size += comp_[b].size;
  comp_[a].internal = w;  // edges come in increasing order: w is the MST's largest so far
  --sets_;
  return a;
}

FloatImage gaussian_smooth(const FloatImage& img, float sigma) {
  if (sigma <= 0) return img;
  const int radius = static_cast<int>(std::ceil(4 * sigma));
  std::vector<float> kernel(radius + 1);
  float sum = 0;
  for (int i = 0; i <= radius; ++i) {
    kernel[i] = std::exp(-0.5f * (i / sigma) * (i / sigma));
    sum += i == 0 ? kernel[i] : 2 * kernel[i];
  }
  for (float& v : kernel) v /= sum;
  const int W = img.width, H = img.height;
  FloatImage out = img;
  std::vector<float> tmp(static_cast<size_t>(W) * H);
  for (int c = 0; c < img.channels; ++c) {
    const float* src = img.plane(c);
    float* dst = out.plane(c);
    for (int y = 0; y < H; ++y)  // rows
      for (int x = 0; x < W; ++x) {
        const float* row = src + static_cast<size_t>(y) * W;
        float s = kernel[0] * row[x];
        for (int i = 1; i <= radius; ++i)
          s += kernel[i] * (row[std::max(x - i, 0)] + row[std::min(x + i, W - 1)]);
        tmp[static_cast<size_t>(y) * W + x] = s;
      }
    for (int y = 0; y < H; ++y)  // columns
      for (int x = 0; x < W; ++x) {
        float s = kernel[0] * tmp[static_cast<size_t>(y) * W + x];
        for (int i = 1; i <= radius; ++i)
          s += kernel[i] * (tmp[static_cast<size_t>(std::max(y - i, 0)) * W + x] +
                            tmp[static_cast<size_t>(std::min(y + i, H - 1)) * W + x]);
        dst[static_cast<size_t>(y) * W + x] = s;
      }
  }
  return out;
}

namespace {

// LSD radix sort on the weight half of the keys (4 passes of 8 bits). It is stable and
// the keys arrive in increasing edge index, so the result equals std::sort of the whole
// keys (the plain version) at a fraction of the cost.
void sort_by_weight(std::vector<uint64_t>& keys) {
  std::vector<uint64_t> tmp(keys.size());
  for (int shift = 32; shift < 64; shift += 8) {
    size_t start[257] = {0};
    for (uint64_t k : keys) start[((k >> shift) & 0xff) + 1]++;
    for (int i = 0; i < 256; ++i) start[i + 1] += start[i];
    for (uint64_t k : keys) tmp[start[(k >> shift) & 0xff]++] = k;
    keys.swap(tmp);
  }
}

}  // namespace

GridGraph build_grid_graph(const FloatImage& input, float sigma) {
  if (input.width <= 0 || input.height <= 0 || input.channels <= 0 ||
      input.data.size() != static_cast<size_t>(input.width) * input.height * input.channels)
    throw ShapeError("graph_segmentation: empty or inconsistent image");
  if (!(sigma >= 0)) throw std::invalid_argument("graph_segmentation: sigma must be >= 0");
  const int W = input.width, H = input.height, C = input.channels;
  const FloatImage img = gaussian_smooth(input, sigma);
  const size_t n = static_cast<size_t>(W) * H;
  GridGraph g;
  g.width = W;
  g.height = H;
  g.a.reserve(4 * n);
  g.b.reserve(4 * n);
  g.keys.reserve(4 * n);
  auto add_edge = [&](int p, int q) {
    float d2 = 0;
    for (int c = 0; c < C; ++c) {
      const float d = img.plane(c)[p] - img.plane(c)[q];
      d2 += d * d;
    }
    const float w = std::sqrt(d2);
    // The weight's bits are monotone in w for w >= 0; the index breaks ties.
    uint32_t bits;
    std::memcpy(&bits, &w, sizeof bits);
    g.keys.push_back(static_cast<uint64_t>(bits) << 32 | static_cast<uint64_t>(g.a.size()));
    g.a.push_back(p);
    g.b.push_back(q);
  };
  // The 8-connected grid: each pixel links right, down, down-right and up-right.
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const int p = y * W + x;
      if (x + 1 < W) add_edge(p, p + 1);
      if (y + 1 < H) add_edge(p, p + W);
      if (x + 1 < W && y + 1 < H) add_edge(p, p + W + 1);
      if (x + 1 < W && y > 0) add_edge(p, p - W + 1);
    }
  sort_by_weight(g.keys);
  g.sorted.resize(g.keys.size());
  for (size_t i = 0; i < g.keys.size(); ++i) {
    const uint32_t e = static_cast<uint32_t>(g.keys[i] & 0xffffffffu);
    const uint32_t bits = static_cast<uint32_t>(g.keys[i] >> 32);
    float w;
    std::memcpy(&w, &bits, sizeof w);
    g.sorted[i] = {g.a[e], g.b[e], w};
  }
  return g;
}

Segmentation segment_graph(const GridGraph& g, const SegmentationOptions& opt) {
  if (!(opt.k >= 0) || opt.min_size < 0)
    throw std::invalid_argument("graph_segmentation: k and min_size must be >= 0");
  const int W = g.width, H = g.height, n = W * H;
  // Algorithm 1: one pass over the edges in increasing weight.
  DisjointSets sets(n);
  for (const GridGraph::Edge& e : g.sorted) {
    const int a = sets.find(e.a), b = sets.find(e.b);
    if (a != b && merge_criterion(e.w, sets.component(a), sets.component(b), opt.k))
      sets.join(a, b, e.w);
  }
  // §4.1 post-processing: merge components below min_size across the remaining edges,
  // again in increasing weight.
  if (opt.min_size > 1)
    for (const GridGraph::Edge& e : g.sorted) {
      const int a = sets.find(e.a), b = sets.find(e.b);
      if (a != b && (sets.component(a).size < opt.min_size ||
                     sets.component(b).size < opt.min_size))
        sets.join(a, b, sets.component(a).internal);
    }
  // Relabel in raster order so the labels do not depend on the forest's shape.
  Segmentation seg;
  seg.width = W;
  seg.height = H;
  seg.labels.assign(n, -1);
  std::vector<int> root_label(n, -1);
  for (int p = 0; p < n; ++p) {
    const int r = sets.find(p);
    if (root_label[r] < 0) root_label[r] = seg.num_segments++;
    seg.labels[p] = root_label[r];
  }
  return seg;
}

Segmentation graph_segmentation(const FloatImage& input, const SegmentationOptions& opt) {
  if (!(opt.k >= 0) || opt.min_size < 0)
    throw std::invalid_argument("graph_segmentation: k and min_size must be >= 0");
  return segment_graph(build_grid_graph(input, opt.sigma), opt);
}

Segmentation graph_segmentation(const Image& img, const SegmentationOptions& options) {
  FloatImage f;
  f.width = img.width;
  f.height = img.height;
  f.channels = img.channels;
  f.data.resize(img.pixels.size());
  const size_t n = static_cast<size_t>(img.width) * img.height;
  for (size_t i = 0; i < n; ++i)
    for (int c = 0; c < img.channels; ++c) f.data[c * n + i] = img.pixels[i * img.channels + c];
  return graph_segmentation(f, options);
}

}  // namespace dl
