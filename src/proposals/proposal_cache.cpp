#include "proposals/proposal_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "proposals/selective_search.h"
#include "util/files.h"

namespace dl {

namespace {
const char kMagic[8] = {'D', 'L', 'P', 'R', 'O', 'P', 'S', '1'};

void fnv(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
}
}  // namespace

uint64_t image_fingerprint(const Image& img) {
  uint64_t h = 14695981039346656037ull;
  const int32_t dims[3] = {img.width, img.height, img.channels};
  fnv(h, dims, sizeof(dims));
  fnv(h, img.pixels.data(), img.pixels.size());
  return h;
}

std::string proposal_cache_path(const std::string& cache_dir, const Image& img,
                                const ProposalSettings& s) {
  const std::string sub = fmt::format("{}-s{}-n{}", s.preset, s.seed, s.max_proposals);
  return (std::filesystem::path(cache_dir) / sub /
          fmt::format("{:016x}.props", image_fingerprint(img)))
      .string();
}

std::vector<uint8_t> encode_proposals(const std::vector<Box>& boxes) {
  std::vector<uint8_t> out(sizeof(kMagic) + 4 + boxes.size() * 16);
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  const uint32_t n = static_cast<uint32_t>(boxes.size());
  std::memcpy(out.data() + 8, &n, 4);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const float v[4] = {boxes[i].x1, boxes[i].y1, boxes[i].x2, boxes[i].y2};
    std::memcpy(out.data() + 12 + 16 * i, v, 16);
  }
  return out;
}

bool decode_proposals(const std::vector<uint8_t>& bytes, std::vector<Box>& boxes) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return false;
  uint32_t n = 0;
  std::memcpy(&n, bytes.data() + 8, 4);
  if (bytes.size() != 12 + 16ull * n) return false;
  boxes.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    float v[4];
    std::memcpy(v, bytes.data() + 12 + 16ull * i, 16);
    boxes[i] = {v[0], v[1], v[2], v[3]};
  }
  return true;
}

bool plausible_proposals(const std::vector<Box>& boxes, int width, int height, size_t max_count) {
  if (boxes.size() > max_count) return false;
  const float W = static_cast<float>(width), H = static_cast<float>(height);
  for (const Box& b : boxes)  // written so that a NaN fails every test
    if (!(b.x1 >= 0 && b.y1 >= 0 && b.x1 <= b.x2 && b.y1 <= b.y2 && b.x2 <= W && b.y2 <= H))
      return false;
  return true;
}

std::vector<Box> cached_proposals(const Image& img, const ProposalSettings& s,
                                  const std::string& cache_dir) {
  std::string path;
  std::vector<Box> boxes;
  if (!cache_dir.empty()) {
    path = proposal_cache_path(cache_dir, img, s);
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) {
      try {
        if (decode_proposals(read_file_bytes(path, 1ull << 28), boxes) &&
            plausible_proposals(boxes, img.width, img.height,
                                static_cast<size_t>(std::max(0, s.max_proposals))))
          return boxes;
      } catch (const std::exception&) {
        // unreadable: recomputed and replaced below
      }
    }
  }
  SelectiveSearchOptions opt = selective_search_preset(s.preset);
  opt.seed = s.seed;
  const SelectiveSearchResult r = selective_search(img, opt);
  const size_t n = std::min<size_t>(r.proposals.size(), static_cast<size_t>(s.max_proposals));
  boxes.clear();
  for (size_t i = 0; i < n; ++i) boxes.push_back(r.proposals[i].box);
  if (!path.empty()) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    const std::vector<uint8_t> bytes = encode_proposals(boxes);
    write_file_atomic(path, bytes.data(), bytes.size());
  }
  return boxes;
}

}  // namespace dl
