#include "proposals/selective_search.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <stdexcept>
#include <unordered_set>

#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace dl {

// ---- similarities ------------------------------------------------------------------
float histogram_intersection(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size())
    throw ShapeError("histogram_intersection: sizes " + std::to_string(a.size()) + " and " +
                     std::to_string(b.size()));
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::min(a[i], b[i]);
  return s;
}

float similarity_colour(const Region& a, const Region& b) {
  return histogram_intersection(a.colour, b.colour);
}

float similarity_texture(const Region& a, const Region& b) {
  return histogram_intersection(a.texture, b.texture);
}

float similarity_size(const Region& a, const Region& b, int image_size) {
  return 1.0f - static_cast<float>(a.size + b.size) / static_cast<float>(image_size);
}

float similarity_fill(const Region& a, const Region& b, int image_size) {
  const int bw = std::max(a.x2, b.x2) - std::min(a.x1, b.x1);
  const int bh = std::max(a.y2, b.y2) - std::min(a.y1, b.y1);
  return 1.0f - static_cast<float>(bw * bh - a.size - b.size) / static_cast<float>(image_size);
}

std::string Strategy::name() const {
  std::string s;
  auto add = [&](bool on, const char* letter) {
    if (!on) return;
    if (!s.empty()) s += "+";
    s += letter;
  };
  add(colour, "C");
  add(texture, "T");
  add(size, "S");
  add(fill, "F");
  return s.empty() ? "none" : s;
}

Strategy parse_strategy(const std::string& name) {
  Strategy s{false, false, false, false};
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('+', start), name.size());
    const std::string part = name.substr(start, end - start);
    if (part == "C") s.colour = true;
    else if (part == "T") s.texture = true;
    else if (part == "S") s.size = true;
    else if (part == "F") s.fill = true;
    else
      throw std::invalid_argument("unknown similarity strategy '" + name +
                                  "' (letters C, T, S, F joined by '+')");
    start = end + 1;
  }
  return s;
}

float similarity(const Region& a, const Region& b, int image_size, const Strategy& s) {
  float v = 0;
  if (s.colour) v += similarity_colour(a, b);
  if (s.texture) v += similarity_texture(a, b);
  if (s.size) v += similarity_size(a, b, image_size);
  if (s.fill) v += similarity_fill(a, b, image_size);
  return v;
}

Region merge_regions(const Region& a, const Region& b) {
  Region t;
  t.size = a.size + b.size;
  t.x1 = std::min(a.x1, b.x1);
  t.y1 = std::min(a.y1, b.y1);
  t.x2 = std::max(a.x2, b.x2);
  t.y2 = std::max(a.y2, b.y2);
  const float wa = static_cast<float>(a.size) / t.size, wb = static_cast<float>(b.size) / t.size;
  t.colour.resize(a.colour.size());
  for (size_t i = 0; i < t.colour.size(); ++i) t.colour[i] = wa * a.colour[i] + wb * b.colour[i];
  t.texture.resize(a.texture.size());
  for (size_t i = 0; i < t.texture.size(); ++i)
    t.texture[i] = wa * a.texture[i] + wb * b.texture[i];
  return t;
}

// ---- features ----------------------------------------------------------------------
TextureBins texture_bins(const FloatImage& img) {
  const int W = img.width, H = img.height;
  const size_t n = static_cast<size_t>(W) * H;
  TextureBins t;
  t.width = W;
  t.height = H;
  t.channels = img.channels;
  t.bins.assign(n * img.channels * kOrientations, 0);
  // Gaussian g and the derivative filter, radius 4σ, borders clamped. conv_x/conv_y
  // below correlate (sum of k[i] f(x + i)), so the derivative filter is -g'(i) = i/σ² g(i).
  const int R = static_cast<int>(std::ceil(4 * kTextureSigma));
  std::vector<float> g(2 * R + 1), dg(2 * R + 1);
  float gs = 0;
  for (int i = -R; i <= R; ++i) {
    g[i + R] = std::exp(-0.5f * i * i / (kTextureSigma * kTextureSigma));
    gs += g[i + R];
  }
  float dn = 0;
  for (int i = -R; i <= R; ++i) {
    g[i + R] /= gs;
    dg[i + R] = i / (kTextureSigma * kTextureSigma) * g[i + R];
    dn += i * dg[i + R];  // normalise so that d/dx of the ramp f(x) = x is 1
  }
  for (float& v : dg) v /= dn;
  auto conv_x = [&](const float* src, const std::vector<float>& k, float* dst) {
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        float s = 0;
        for (int i = -R; i <= R; ++i)
          s += k[i + R] * src[static_cast<size_t>(y) * W + std::clamp(x + i, 0, W - 1)];
        dst[static_cast<size_t>(y) * W + x] = s;
      }
  };
  auto conv_y = [&](const float* src, const std::vector<float>& k, float* dst) {
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        float s = 0;
        for (int i = -R; i <= R; ++i)
          s += k[i + R] * src[static_cast<size_t>(std::clamp(y + i, 0, H - 1)) * W + x];
        dst[static_cast<size_t>(y) * W + x] = s;
      }
  };
  std::vector<float> tmp(n), gx(n), gy(n), resp(n);
  for (int c = 0; c < img.channels; ++c) {
    conv_x(img.plane(c), dg, tmp.data());
    conv_y(tmp.data(), g, gx.data());
    conv_x(img.plane(c), g, tmp.data());
    conv_y(tmp.data(), dg, gy.data());
    for (int o = 0; o < kOrientations; ++o) {
      // Orientation o at o x 45°: the derivative along (cos, sin), positive part only,
      // so o and o + 4 split one axis by the sign of the change.
      const double th = o * M_PI / 4;
      const float cs = static_cast<float>(std::cos(th)), sn = static_cast<float>(std::sin(th));
      float mx = 0;
      for (size_t i = 0; i < n; ++i) {
        resp[i] = std::max(0.0f, cs * gx[i] + sn * gy[i]);
        mx = std::max(mx, resp[i]);
      }
      uint8_t* dst = t.bins.data() + (static_cast<size_t>(c) * kOrientations + o) * n;
      // A flat image has only rounding noise here (|noise| ~ 1e-7 on [0, 1] channels);
      // scaling that by its maximum would invent texture, so it counts as none.
      if (mx <= 1e-4f) continue;
      const float scale = kTextureBins / mx;
      for (size_t i = 0; i < n; ++i)
        dst[i] = static_cast<uint8_t>(std::min(kTextureBins - 1, static_cast<int>(resp[i] * scale)));
    }
  }
  return t;
}

std::vector<Region> initial_regions(const Segmentation& seg, const FloatImage& img,
                                    const TextureBins& tex) {
  const int W = seg.width, H = seg.height, C = img.channels;
  if (img.width != W || img.height != H || tex.width != W || tex.height != H ||
      tex.channels != C)
    throw ShapeError("initial_regions: segmentation, image and texture sizes differ");
  const size_t n = static_cast<size_t>(W) * H;
  std::vector<Region> regions(seg.num_segments);
  std::vector<std::vector<int>> colour(seg.num_segments,
                                       std::vector<int>(C * kColourBins, 0));
  std::vector<std::vector<int>> texture(
      seg.num_segments, std::vector<int>(C * kOrientations * kTextureBins, 0));
  for (Region& r : regions) r.x1 = W, r.y1 = H, r.x2 = 0, r.y2 = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t p = static_cast<size_t>(y) * W + x;
      const int l = seg.labels[p];
      Region& r = regions[l];
      r.size++;
      r.x1 = std::min(r.x1, x), r.y1 = std::min(r.y1, y);
      r.x2 = std::max(r.x2, x + 1), r.y2 = std::max(r.y2, y + 1);
      int* ch = colour[l].data();
      int* th = texture[l].data();
      for (int c = 0; c < C; ++c) {
        const int b = std::min(kColourBins - 1, static_cast<int>(img.plane(c)[p] * kColourBins));
        ch[c * kColourBins + std::max(b, 0)]++;
        for (int o = 0; o < kOrientations; ++o) {
          const int co = c * kOrientations + o;
          th[co * kTextureBins + tex.bins[co * n + p]]++;
        }
      }
    }
  // L1 normalisation (§3.2): every histogram sums to 1.
  for (int l = 0; l < seg.num_segments; ++l) {
    Region& r = regions[l];
    const float cn = 1.0f / (static_cast<float>(r.size) * C);
    const float tn = 1.0f / (static_cast<float>(r.size) * C * kOrientations);
    r.colour.resize(colour[l].size());
    for (size_t i = 0; i < r.colour.size(); ++i) r.colour[i] = colour[l][i] * cn;
    r.texture.resize(texture[l].size());
    for (size_t i = 0; i < r.texture.size(); ++i) r.texture[i] = texture[l][i] * tn;
  }
  return regions;
}

std::vector<std::pair<int, int>> neighbour_pairs(const Segmentation& seg) {
  std::vector<std::pair<int, int>> pairs;
  const int W = seg.width, H = seg.height;
  auto add = [&](int a, int b) {
    if (a != b) pairs.emplace_back(std::min(a, b), std::max(a, b));
  };
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const int l = seg.labels[static_cast<size_t>(y) * W + x];
      if (x + 1 < W) add(l, seg.labels[static_cast<size_t>(y) * W + x + 1]);
      if (y + 1 < H) add(l, seg.labels[static_cast<size_t>(y + 1) * W + x]);
    }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

// ---- hierarchical grouping (Algorithm 1) --------------------------------------------
namespace {

struct ScoredPair {
  float s;
  int a, b;
};
// True when p should be merged before q: higher similarity, then smaller indices.
bool before(const ScoredPair& p, const ScoredPair& q) {
  if (p.s != q.s) return p.s > q.s;
  if (p.a != q.a) return p.a < q.a;
  return p.b < q.b;
}

// Sorted neighbour lists of the initial regions.
std::vector<std::vector<int>> neighbour_lists(int n, const std::vector<std::pair<int, int>>& pairs) {
  std::vector<std::vector<int>> nb(n);
  for (const auto& [a, b] : pairs) {
    if (a < 0 || b >= n || a >= b) throw std::invalid_argument("hierarchical_grouping: bad pair");
    nb[a].push_back(b);
    nb[b].push_back(a);
  }
  for (auto& v : nb) std::sort(v.begin(), v.end());
  return nb;
}

// Merges a and b into a new region t; updates the neighbour lists; returns t's neighbours.
std::vector<int> merge_step(Hierarchy& h, std::vector<std::vector<int>>& nb, int a, int b) {
  const int t = static_cast<int>(h.regions.size());
  h.regions.push_back(merge_regions(h.regions[a], h.regions[b]));
  h.merged_from.emplace_back(a, b);
  std::vector<int> nt;
  std::set_union(nb[a].begin(), nb[a].end(), nb[b].begin(), nb[b].end(), std::back_inserter(nt));
  nt.erase(std::remove_if(nt.begin(), nt.end(), [&](int r) { return r == a || r == b; }),
           nt.end());
  for (int r : nt) {
    auto& v = nb[r];
    v.erase(std::remove_if(v.begin(), v.end(), [&](int q) { return q == a || q == b; }), v.end());
    v.push_back(t);  // t is the largest index: v stays sorted
  }
  nb.push_back(nt);
  nb[a].clear();
  nb[b].clear();
  return nt;
}

}  // namespace

Hierarchy hierarchical_grouping(std::vector<Region> initial,
                                const std::vector<std::pair<int, int>>& neighbours,
                                int image_size, const Strategy& strategy) {
  Hierarchy h;
  h.num_initial = static_cast<int>(initial.size());
  h.regions = std::move(initial);
  h.regions.reserve(2 * h.regions.size());
  auto nb = neighbour_lists(h.num_initial, neighbours);
  auto worse = [](const ScoredPair& p, const ScoredPair& q) { return before(q, p); };
  std::priority_queue<ScoredPair, std::vector<ScoredPair>, decltype(worse)> heap(worse);
  for (const auto& [a, b] : neighbours)
    heap.push({similarity(h.regions[a], h.regions[b], image_size, strategy), a, b});
  std::vector<char> alive(h.num_initial, 1);
  alive.reserve(2 * h.num_initial);
  while (!heap.empty()) {
    const ScoredPair p = heap.top();
    heap.pop();
    // Regions never change once made, so a pair is stale exactly when one side is gone.
    if (!alive[p.a] || !alive[p.b]) continue;
    const int t = static_cast<int>(h.regions.size());
    const std::vector<int> nt = merge_step(h, nb, p.a, p.b);
    alive[p.a] = alive[p.b] = 0;
    alive.push_back(1);
    for (int r : nt) heap.push({similarity(h.regions[r], h.regions[t], image_size, strategy), r, t});
  }
  return h;
}

Hierarchy hierarchical_grouping_reference(std::vector<Region> initial,
                                          const std::vector<std::pair<int, int>>& neighbours,
                                          int image_size, const Strategy& strategy) {
  Hierarchy h;
  h.num_initial = static_cast<int>(initial.size());
  h.regions = std::move(initial);
  auto nb = neighbour_lists(h.num_initial, neighbours);
  std::vector<ScoredPair> S;  // the set S of Algorithm 1
  for (const auto& [a, b] : neighbours)
    S.push_back({similarity(h.regions[a], h.regions[b], image_size, strategy), a, b});
  while (!S.empty()) {
    size_t best = 0;
    for (size_t i = 1; i < S.size(); ++i)
      if (before(S[i], S[best])) best = i;
    const int a = S[best].a, b = S[best].b, t = static_cast<int>(h.regions.size());
    S.erase(std::remove_if(S.begin(), S.end(),
                           [&](const ScoredPair& p) {
                             return p.a == a || p.a == b || p.b == a || p.b == b;
                           }),
            S.end());
    for (int r : merge_step(h, nb, a, b))
      S.push_back({similarity(h.regions[r], h.regions[t], image_size, strategy), r, t});
  }
  return h;
}

// ---- the whole method --------------------------------------------------------------
SelectiveSearchOptions selective_search_preset(const std::string& name) {
  SelectiveSearchOptions o;
  const Strategy ctsf{}, tsf{false, true, true, true};
  if (name == "single") {
    o.color_spaces = {ColorSpace::HSV};
    o.ks = {100};
    o.strategies = {ctsf};
  } else if (name == "fast") {
    o.color_spaces = {ColorSpace::HSV, ColorSpace::Lab};
    o.ks = {50, 100};
    o.strategies = {ctsf, tsf};
  } else if (name == "quality") {
    o.color_spaces = {ColorSpace::HSV, ColorSpace::Lab, ColorSpace::rgI, ColorSpace::Hue,
                      ColorSpace::Intensity};
    o.ks = {50, 100, 150, 300};
    o.strategies = {ctsf, tsf, parse_strategy("F"), parse_strategy("S")};
  } else {
    throw std::invalid_argument("unknown preset '" + name + "' (single, fast or quality)");
  }
  return o;
}

SelectiveSearchOptions selective_search_options(const std::string& preset,
                                                const SelectiveSearchOverrides& o, uint64_t seed) {
  SelectiveSearchOptions so = selective_search_preset(preset);
  if (!o.color_spaces.empty()) {
    so.color_spaces.clear();
    for (const auto& name : o.color_spaces) so.color_spaces.push_back(parse_color_space(name));
  }
  if (!o.strategies.empty()) {
    so.strategies.clear();
    for (const auto& name : o.strategies) so.strategies.push_back(parse_strategy(name));
  }
  if (!o.ks.empty()) so.ks = o.ks;
  if (o.sigma >= 0) so.sigma = o.sigma;
  if (o.min_size >= 0) so.min_size = o.min_size;
  so.seed = seed;
  return so;
}

std::string describe_selective_search(const SelectiveSearchOptions& so) {
  std::string cs, ks, st;
  for (ColorSpace c : so.color_spaces) cs += (cs.empty() ? "" : ",") + std::string(color_space_name(c));
  for (float k : so.ks) ks += (ks.empty() ? "" : ",") + fmt::format("{:g}", k);
  for (const Strategy& s : so.strategies) st += (st.empty() ? "" : ",") + s.name();
  return fmt::format("{} k={} {} sigma={:g}{}", cs, ks, st, so.sigma,
                     so.min_size >= 0 ? fmt::format(" min_size={}", so.min_size) : std::string());
}

SelectiveSearchResult selective_search(const Image& rgb, const SelectiveSearchOptions& opt) {
  if (rgb.channels != 3 || rgb.empty())
    throw ShapeError("selective_search: expected a non-empty RGB image");
  if (opt.color_spaces.empty() || opt.ks.empty() || opt.strategies.empty())
    throw std::invalid_argument("selective_search: no colour space, k or strategy");
  // Duplicate removal packs a box into 4 x 16 bits.
  if (rgb.width > 65535 || rgb.height > 65535)
    throw ShapeError("selective_search: images up to 65535 pixels wide and high");
  for (float k : opt.ks)
    if (!(k > 0)) throw std::invalid_argument("selective_search: every k must be > 0");
  const int ncs = static_cast<int>(opt.color_spaces.size());
  const int nk = static_cast<int>(opt.ks.size());
  const int ns = static_cast<int>(opt.strategies.size());
  const int image_size = rgb.width * rgb.height;

  // Stage 1, per colour space: the converted image, its texture bins and its sorted
  // grid graph (on 0..255 values, the scale the paper's k assumes; shared by every k).
  std::vector<FloatImage> images(ncs);
  std::vector<TextureBins> textures(ncs);
  std::vector<GridGraph> graphs(ncs);
#pragma omp parallel for schedule(dynamic)
  for (int c = 0; c < ncs; ++c) {
    images[c] = convert_color_space(rgb, opt.color_spaces[c]);
    textures[c] = texture_bins(images[c]);
    FloatImage scaled = images[c];
    for (float& v : scaled.data) v *= 255.0f;
    graphs[c] = build_grid_graph(scaled, opt.sigma);
  }
  // Stage 2, per (colour space, k): segmentation, initial regions and their neighbours.
  SelectiveSearchResult result;
  result.segmentations.resize(ncs * nk);
  std::vector<std::vector<Region>> initial(ncs * nk);
  std::vector<std::vector<std::pair<int, int>>> pairs(ncs * nk);
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < ncs * nk; ++i) {
    const int c = i / nk;
    SegmentationOptions so;
    so.k = opt.ks[i % nk];
    so.min_size = opt.min_size >= 0 ? opt.min_size : static_cast<int>(opt.ks[i % nk]);
    result.segmentations[i] = segment_graph(graphs[c], so);
    initial[i] = initial_regions(result.segmentations[i], images[c], textures[c]);
    pairs[i] = neighbour_pairs(result.segmentations[i]);
  }
  // Stage 3, per (colour space, k, strategy): the hierarchy, ranked (§3.3): the region
  // at hierarchy position j (1 = the last merge, the whole image) gets v = RND x j.
  result.num_runs = ncs * nk * ns;
  std::vector<std::vector<Proposal>> runs(result.num_runs);
#pragma omp parallel for schedule(dynamic)
  for (int r = 0; r < result.num_runs; ++r) {
    const int seg = r / ns;
    Hierarchy h = hierarchical_grouping(initial[seg], pairs[seg], image_size, opt.strategies[r % ns]);
    Rng rng = Rng(opt.seed).fork(static_cast<uint64_t>(r));
    const int n = static_cast<int>(h.regions.size());
    runs[r].reserve(n);
    for (int i = 0; i < n; ++i) {
      const Region& g = h.regions[i];
      Proposal p;
      p.box = {static_cast<float>(g.x1), static_cast<float>(g.y1), static_cast<float>(g.x2),
               static_cast<float>(g.y2)};
      p.rank_value = rng.uniform() * static_cast<float>(n - i);
      p.run = r;
      runs[r].push_back(p);
    }
  }
  // Merge in run order, sort by v (ties: run, then hierarchy index, via stable sort),
  // and keep the best-ranked copy of every box.
  std::vector<Proposal> all;
  for (auto& v : runs) all.insert(all.end(), v.begin(), v.end());
  result.boxes_before_dedup = static_cast<int64_t>(all.size());
  std::stable_sort(all.begin(), all.end(), [](const Proposal& a, const Proposal& b) {
    return a.rank_value < b.rank_value;
  });
  std::unordered_set<uint64_t> seen;
  for (const Proposal& p : all) {
    const uint64_t key = static_cast<uint64_t>(p.box.x1) << 48 | static_cast<uint64_t>(p.box.y1) << 32 |
                         static_cast<uint64_t>(p.box.x2) << 16 | static_cast<uint64_t>(p.box.y2);
    if (seen.insert(key).second) result.proposals.push_back(p);
  }
  return result;
}

std::vector<Box> proposal_boxes(const SelectiveSearchResult& r) {
  std::vector<Box> b;
  b.reserve(r.proposals.size());
  for (const Proposal& p : r.proposals) b.push_back(p.box);
  return b;
}

}  // namespace dl
