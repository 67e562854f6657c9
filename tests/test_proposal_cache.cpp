// The on-disk proposal cache: the file format, that a valid file is read instead of
// recomputing, that a damaged one is replaced, and that the key follows the pixels.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "image/image.h"
#include "proposals/proposal_cache.h"
#include "proposals/selective_search.h"
#include "run_program.h"
#include "util/files.h"

using namespace dl;
namespace fs = std::filesystem;

namespace {
Image two_squares() {
  Image img(48, 40, 3, 30);
  for (int y = 5; y < 20; ++y)
    for (int x = 4; x < 22; ++x)
      for (int c = 0; c < 3; ++c) img.pixels[(y * 48 + x) * 3 + c] = c == 0 ? 220 : 40;
  for (int y = 22; y < 36; ++y)
    for (int x = 28; x < 44; ++x)
      for (int c = 0; c < 3; ++c) img.pixels[(y * 48 + x) * 3 + c] = c == 2 ? 200 : 60;
  return img;
}
}  // namespace

BOOST_AUTO_TEST_CASE(format_round_trip_and_refusals) {
  const std::vector<Box> boxes = {{1, 2, 3, 4}, {0.5f, 0.25f, 47.75f, 39}};
  std::vector<uint8_t> bytes = encode_proposals(boxes);
  BOOST_TEST(bytes.size() == 12u + 32u);
  std::vector<Box> back;
  BOOST_REQUIRE(decode_proposals(bytes, back));
  BOOST_REQUIRE_EQUAL(back.size(), 2u);
  BOOST_TEST(back[1].x1 == 0.5f);
  BOOST_TEST(back[1].y2 == 39.0f);
  std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 1);
  BOOST_TEST(!decode_proposals(truncated, back));
  std::vector<uint8_t> wrong_magic = bytes;
  wrong_magic[0] = 'X';
  BOOST_TEST(!decode_proposals(wrong_magic, back));
  BOOST_TEST(!decode_proposals({}, back));
}

BOOST_AUTO_TEST_CASE(cache_is_read_keyed_by_pixels_and_repaired) {
  const std::string dir = detlab_test::temp_dir("proposal_cache");
  const Image img = two_squares();
  ProposalSettings s;
  s.preset = "single";
  s.max_proposals = 5;
  // Without a cache: selective_search's best-ranked boxes, cut to max_proposals.
  const std::vector<Box> direct = cached_proposals(img, s, "");
  SelectiveSearchOptions opt = selective_search_preset("single");
  const SelectiveSearchResult r = selective_search(img, opt);
  BOOST_REQUIRE_EQUAL(direct.size(), std::min<size_t>(5, r.proposals.size()));
  for (size_t i = 0; i < direct.size(); ++i) BOOST_TEST(direct[i].x2 == r.proposals[i].box.x2);

  // First call writes the file, with the same boxes.
  const std::string path = proposal_cache_path(dir, img, s);
  BOOST_TEST(!fs::exists(path));
  const std::vector<Box> first = cached_proposals(img, s, dir);
  BOOST_REQUIRE(fs::exists(path));
  BOOST_REQUIRE_EQUAL(first.size(), direct.size());
  for (size_t i = 0; i < first.size(); ++i) BOOST_TEST(first[i].y1 == direct[i].y1);

  // A valid file is believed: plant one box and it comes back.
  const std::vector<uint8_t> planted = encode_proposals({{7, 8, 9, 10}});
  write_file_atomic(path, planted.data(), planted.size());
  const std::vector<Box> read = cached_proposals(img, s, dir);
  BOOST_REQUIRE_EQUAL(read.size(), 1u);
  BOOST_TEST(read[0].x1 == 7.0f);

  // A damaged file is recomputed and replaced.
  write_file_atomic(path, std::string("not proposals"));
  BOOST_TEST(cached_proposals(img, s, dir).size() == direct.size());
  std::vector<Box> repaired;
  BOOST_TEST(decode_proposals(read_file_bytes(path), repaired));

  // So is a well-formed file whose boxes this image's proposals could not be: NaN,
  // infinite, inverted, outside the image, or more than max_proposals of them.
  const float W = static_cast<float>(img.width), H = static_cast<float>(img.height);
  const std::vector<std::vector<Box>> implausible = {
      {{NAN, 1, 2, 3}}, {{0, 0, INFINITY, 3}}, {{5, 1, 2, 3}}, {{0, 0, W + 1, H}},
      {{-1, 0, 2, 3}}, std::vector<Box>(6, Box{0, 0, 1, 1})};
  for (const std::vector<Box>& bad : implausible) {
    BOOST_TEST(!plausible_proposals(bad, img.width, img.height, 5));
    const std::vector<uint8_t> bytes = encode_proposals(bad);
    write_file_atomic(path, bytes.data(), bytes.size());
    const std::vector<Box> got = cached_proposals(img, s, dir);
    BOOST_REQUIRE_EQUAL(got.size(), direct.size());
    BOOST_TEST(got[0].x2 == direct[0].x2);
  }
  BOOST_TEST(plausible_proposals({{0, 0, W, H}, {1, 2, 1, 2}}, img.width, img.height, 5));

  // Another pixel, another preset or seed: another file.
  Image other = img;
  other.pixels[0] ^= 1;
  BOOST_TEST(proposal_cache_path(dir, other, s) != path);
  ProposalSettings s2 = s;
  s2.seed = 2;
  BOOST_TEST(proposal_cache_path(dir, img, s2) != path);
  s2 = s;
  s2.preset = "fast";
  BOOST_TEST(proposal_cache_path(dir, img, s2) != path);
}
