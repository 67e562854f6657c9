// COCO RLE. Every operation works on the runs directly; only encode/decode touch
// pixels. The reference implementation is pycocotools' maskApi.c; the behaviour
// (not the code) is reproduced so that masks and strings agree exactly.
#include "data/rle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace dl {

Mask::Mask(int h, int w, uint8_t value)
    : height(h), width(w), data(static_cast<size_t>(h) * w, value) {}

namespace {
uint64_t total(const Rle& r) {
  uint64_t s = 0;
  for (uint32_t c : r.counts) s += c;
  return s;
}

void check_total(const Rle& r, const char* op) {
  if (r.height < 0 || r.width < 0 ||
      total(r) != static_cast<uint64_t>(r.height) * static_cast<uint64_t>(r.width))
    throw std::invalid_argument(std::string(op) + ": RLE counts sum to " +
                                std::to_string(total(r)) + ", expected " +
                                std::to_string(r.height) + "x" + std::to_string(r.width));
}
}  // namespace

Rle rle_encode(const Mask& mask) {
  Rle r;
  r.height = mask.height;
  r.width = mask.width;
  uint8_t current = 0;
  uint32_t run = 0;
  for (int x = 0; x < mask.width; ++x)
    for (int y = 0; y < mask.height; ++y) {
      const uint8_t v = mask.at(x, y) ? 1 : 0;
      if (v != current) {
        r.counts.push_back(run);
        run = 0;
        current = v;
      }
      ++run;
    }
  r.counts.push_back(run);
  return r;
}

Mask rle_decode(const Rle& rle) {
  check_total(rle, "rle_decode");
  Mask m(rle.height, rle.width);
  uint64_t pos = 0;  // column-major position
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    if (i % 2 == 1)
      for (uint64_t p = pos; p < pos + rle.counts[i]; ++p)
        m.at(static_cast<int>(p / rle.height), static_cast<int>(p % rle.height)) = 1;
    pos += rle.counts[i];
  }
  return m;
}

std::string rle_to_string(const Rle& rle) {
  std::string s;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= static_cast<int64_t>(rle.counts[i - 2]);
    bool more = true;
    while (more) {
      int c = static_cast<int>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative deltas end at -1
      // Stop once the remaining bits are pure sign extension of the chunk's 0x10 bit.
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

Rle rle_from_string(const std::string& str, int height, int width) {
  Rle r;
  r.height = height;
  r.width = width;
  size_t p = 0;
  while (p < str.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= str.size()) throw std::invalid_argument("RLE string ends inside a count");
      const int c = static_cast<unsigned char>(str[p]) - 48;
      if (c < 0 || c > 63 || k > 6)
        throw std::invalid_argument("RLE string has an invalid character at " + std::to_string(p));
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= static_cast<int64_t>(-1) * (int64_t{1} << (5 * k));
    }
    const size_t m = r.counts.size();
    if (m > 2) x += r.counts[m - 2];
    if (x < 0 || x > std::numeric_limits<uint32_t>::max())
      throw std::invalid_argument("RLE string decodes to an invalid count " + std::to_string(x));
    r.counts.push_back(static_cast<uint32_t>(x));
  }
  check_total(r, "rle_from_string");
  return r;
}

uint64_t rle_area(const Rle& rle) {
  uint64_t a = 0;
  for (size_t i = 1; i < rle.counts.size(); i += 2) a += rle.counts[i];
  return a;
}

std::array<double, 4> rle_to_bbox(const Rle& rle) {
  const uint64_t h = static_cast<uint64_t>(rle.height);
  if (h == 0 || rle_area(rle) == 0) return {0, 0, 0, 0};
  uint64_t xs = std::numeric_limits<uint64_t>::max(), ys = xs, xe = 0, ye = 0, pos = 0;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    const uint64_t start = pos;
    pos += rle.counts[i];
    if (i % 2 == 0 || rle.counts[i] == 0) continue;
    const uint64_t last = pos - 1;  // run of 1s covers [start, last] column-major
    const uint64_t x0 = start / h, x1 = last / h;
    xs = std::min(xs, x0);
    xe = std::max(xe, x1);
    if (x0 == x1) {
      ys = std::min(ys, start % h);
      ye = std::max(ye, last % h);
    } else {  // the run wraps into the next column, so it touches every row
      ys = 0;
      ye = h - 1;
    }
  }
  return {static_cast<double>(xs), static_cast<double>(ys), static_cast<double>(xe - xs + 1),
          static_cast<double>(ye - ys + 1)};
}

namespace {
// Walks the runs of one RLE: value of the current run and pixels left in it.
struct RunCursor {
  const std::vector<uint32_t>* counts;
  size_t index = 0;
  uint64_t left = 0;
  uint8_t value = 0;

  explicit RunCursor(const Rle& r) : counts(&r.counts) {
    left = counts->empty() ? 0 : (*counts)[0];
    skip_empty();
  }
  void skip_empty() {
    while (left == 0 && index + 1 < counts->size()) {
      ++index;
      value ^= 1;
      left = (*counts)[index];
    }
  }
  void advance(uint64_t n) {
    left -= n;
    skip_empty();
  }
};

Rle merge_two(const Rle& a, const Rle& b, bool intersect) {
  Rle out;
  out.height = a.height;
  out.width = a.width;
  const uint64_t n = static_cast<uint64_t>(a.height) * a.width;
  RunCursor ca(a), cb(b);
  uint8_t current = 0;
  uint64_t run = 0, done = 0;
  while (done < n) {
    const uint64_t step = std::min(ca.left, cb.left);
    const uint8_t v = intersect ? (ca.value & cb.value) : (ca.value | cb.value);
    if (v != current) {
      out.counts.push_back(static_cast<uint32_t>(run));
      run = 0;
      current = v;
    }
    run += step;
    done += step;
    ca.advance(step);
    cb.advance(step);
  }
  out.counts.push_back(static_cast<uint32_t>(run));
  return out;
}
}  // namespace

Rle rle_merge(const std::vector<Rle>& rles, bool intersect) {
  if (rles.empty()) throw std::invalid_argument("rle_merge: no masks");
  for (const Rle& r : rles) {
    check_total(r, "rle_merge");
    if (r.height != rles[0].height || r.width != rles[0].width)
      throw std::invalid_argument("rle_merge: masks of different sizes");
  }
  Rle out = rles[0];
  for (size_t i = 1; i < rles.size(); ++i) out = merge_two(out, rles[i], intersect);
  return out;
}

double rle_iou(const Rle& dt, const Rle& gt, bool gt_iscrowd) {
  const double inter = static_cast<double>(rle_area(rle_merge({dt, gt}, true)));
  const double uni = gt_iscrowd ? static_cast<double>(rle_area(dt))
                                : static_cast<double>(rle_area(rle_merge({dt, gt}, false)));
  return uni > 0 ? inter / uni : 0.0;
}

Rle rle_from_polygon(const std::vector<double>& xy, int height, int width) {
  if (xy.size() % 2 != 0) throw std::invalid_argument("rle_from_polygon: odd number of coordinates");
  // Counts are 32-bit, as in COCO; so are the fine-grid coordinates below.
  if (height < 0 || width < 0 ||
      static_cast<uint64_t>(height) * static_cast<uint64_t>(width) > UINT32_MAX)
    throw std::invalid_argument("rle_from_polygon: bad mask size " + std::to_string(height) +
                                "x" + std::to_string(width));
  for (double v : xy)
    if (!(std::abs(v) < 1e8))
      throw std::invalid_argument("rle_from_polygon: coordinate out of range");
  const int k = static_cast<int>(xy.size() / 2);
  // 1. Vertices on a grid `scale` times finer, rounded; close the polygon.
  const double scale = 5;
  std::vector<int> x(k + 1), y(k + 1);
  for (int j = 0; j < k; ++j) {
    x[j] = static_cast<int>(scale * xy[2 * j] + 0.5);
    y[j] = static_cast<int>(scale * xy[2 * j + 1] + 0.5);
  }
  if (k > 0) {
    x[k] = x[0];
    y[k] = y[0];
  }
  // 2. Trace every edge through all fine-grid points along its longer axis, always
  //    walking from the lower to the higher end so both directions round alike.
  std::vector<int> u, v;
  for (int j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    if (dx >= dy) {
      const double s = dx == 0 ? 0.0 : static_cast<double>(ye - ys) / dx;
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        u.push_back(t + xs);
        v.push_back(static_cast<int>(ys + s * t + 0.5));
      }
    } else {
      const double s = static_cast<double>(xe - xs) / dy;
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        v.push_back(t + ys);
        u.push_back(static_cast<int>(xs + s * t + 0.5));
      }
    }
  }
  // 3. Where the traced boundary crosses a fine column that is a pixel centre, it
  //    toggles inside/outside from the first pixel row below the crossing downwards.
  std::vector<uint64_t> toggles;
  const uint64_t h = static_cast<uint64_t>(height);
  for (size_t j = 1; j < u.size(); ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (std::floor(xd) != xd || xd < 0 || xd > width - 1) continue;
    double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    yd = std::ceil(std::clamp(yd, 0.0, static_cast<double>(height)));
    toggles.push_back(static_cast<uint64_t>(xd) * h + static_cast<uint64_t>(yd));
  }
  // 4. Sorted toggle positions are the run boundaries; equal positions cancel.
  toggles.push_back(h * static_cast<uint64_t>(width));
  std::sort(toggles.begin(), toggles.end());
  std::vector<uint64_t> runs(toggles.size());
  uint64_t prev = 0;
  for (size_t j = 0; j < toggles.size(); ++j) {
    runs[j] = toggles[j] - prev;
    prev = toggles[j];
  }
  Rle r;
  r.height = height;
  r.width = width;
  size_t j = 0;
  r.counts.push_back(static_cast<uint32_t>(runs[j++]));
  while (j < runs.size()) {
    if (runs[j] > 0) {
      r.counts.push_back(static_cast<uint32_t>(runs[j++]));
    } else {  // a zero-length run: the two toggles cancel, join its neighbours
      ++j;
      if (j < runs.size()) r.counts.back() += static_cast<uint32_t>(runs[j++]);
    }
  }
  return r;
}

Rle rle_from_polygons(const std::vector<std::vector<double>>& polygons, int height, int width) {
  if (polygons.empty()) {
    Rle r;
    r.height = height;
    r.width = width;
    r.counts = {static_cast<uint32_t>(static_cast<uint64_t>(height) * width)};
    return r;
  }
  std::vector<Rle> parts;
  for (const auto& p : polygons) parts.push_back(rle_from_polygon(p, height, width));
  return rle_merge(parts, false);
}

Rle rle_from_bbox(const std::array<double, 4>& b, int height, int width) {
  const double x0 = b[0], y0 = b[1], x1 = b[0] + b[2], y1 = b[1] + b[3];
  return rle_from_polygon({x0, y0, x0, y1, x1, y1, x1, y0}, height, width);
}

std::array<double, 4> mask_bbox(const Mask& m) {
  int x0 = m.width, y0 = m.height, x1 = -1, y1 = -1;
  for (int y = 0; y < m.height; ++y) {
    const uint8_t* row = m.data.data() + static_cast<size_t>(y) * m.width;
    uint8_t any = 0;
    for (int x = 0; x < m.width; ++x) any |= row[x];
    if (!any) continue;
    int first = 0, last = m.width - 1;
    while (!row[first]) ++first;
    while (!row[last]) --last;
    x0 = std::min(x0, first);
    x1 = std::max(x1, last);
    y0 = std::min(y0, y);
    y1 = y;
  }
  if (x1 < 0) return {0, 0, 0, 0};
  return {double(x0), double(y0), double(x1 - x0 + 1), double(y1 - y0 + 1)};
}

int64_t mask_area(const Mask& m) {
  int64_t n = 0;
  for (uint8_t v : m.data) n += v != 0;
  return n;
}

}  // namespace dl
