// COCO RLE and annotation files: random round trips against brute force, compressed
// strings worked out by hand, polygon rasterisation of simple shapes, and the real
// labelme/PASCAL VOC example whose polygons must agree with its painted PNGs.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

#include "data/coco.h"
#include "data/rle.h"
#include "image/draw.h"
#include "image/image.h"
#include "tensor/rng.h"
#include "util/files.h"

#include <nlohmann/json.hpp>

using namespace dl;
namespace fs = std::filesystem;

namespace {

Mask random_mask(int h, int w, float p_on, Rng& rng) {
  Mask m(h, w);
  // Blobby masks: each pixel copies its upper neighbour most of the time, so runs
  // span columns and the deltas in the string form are both positive and negative.
  for (int x = 0; x < w; ++x)
    for (int y = 0; y < h; ++y) {
      const bool copy = x > 0 && rng.uniform() < 0.8f;
      m.at(x, y) = copy ? m.at(x - 1, y) : (rng.uniform() < p_on ? 1 : 0);
    }
  return m;
}

uint64_t count_on(const Mask& m) {
  return static_cast<uint64_t>(std::count_if(m.data.begin(), m.data.end(), [](uint8_t v) { return v != 0; }));
}

Rle make_rle(int h, int w, std::vector<uint32_t> counts) {
  Rle r;
  r.height = h;
  r.width = w;
  r.counts = std::move(counts);
  return r;
}

// Row-major picture of a mask, e.g. "..#\n.##\n" for tests that draw their answer.
std::string picture(const Mask& m) {
  std::string s;
  for (int y = 0; y < m.height; ++y) {
    for (int x = 0; x < m.width; ++x) s += m.at(x, y) ? '#' : '.';
    s += '\n';
  }
  return s;
}

struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("detlab_test_coco_" + std::to_string(getpid()));
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

std::string samples_dir() {
  const std::string dir = std::string(DETLAB_SOURCE_DIR) + "/data/samples/labelme";
  BOOST_TEST_REQUIRE(fs::exists(dir + "/annotations.json"),
                     dir << "/annotations.json is missing: run `make data` (tools/fetch-data.sh) first");
  return dir;
}

void expect_error_mentions(const std::string& path, const std::string& text,
                           std::initializer_list<std::string> parts) {
  write_file_atomic(path, text);
  try {
    read_coco(path);
    BOOST_ERROR("no error for " << text);
  } catch (const FileError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find(path) != std::string::npos, msg);
    for (const std::string& p : parts) BOOST_TEST(msg.find(p) != std::string::npos, msg);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rle)

BOOST_AUTO_TEST_CASE(encode_is_column_major_starting_with_zeros) {
  Mask m(2, 3);  // 2 rows, 3 columns
  m.at(0, 0) = 1;  // column 0: [1, 0]; column 1: [0, 0]; column 2: [1, 1]
  m.at(2, 0) = 1;
  m.at(2, 1) = 1;
  const Rle r = rle_encode(m);
  BOOST_TEST(r.counts == std::vector<uint32_t>({0, 1, 3, 2}));
  BOOST_TEST(rle_area(r) == 3u);
  BOOST_TEST((rle_to_bbox(r) == std::array<double, 4>{0, 0, 3, 2}));
  BOOST_TEST(rle_decode(r).data == m.data);
  BOOST_CHECK_THROW(rle_decode(make_rle(2, 3, {1, 2})), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(random_masks_round_trip) {
  Rng rng(42);
  const int sizes[][2] = {{1, 1}, {1, 17}, {13, 1}, {7, 9}, {32, 24}, {50, 61}};
  for (const auto& hw : sizes)
    for (float p : {0.0f, 0.1f, 0.5f, 0.9f, 1.0f}) {
      const Mask m = random_mask(hw[0], hw[1], p, rng);
      const Rle r = rle_encode(m);
      BOOST_TEST(rle_decode(r).data == m.data);
      const std::string s = rle_to_string(r);
      BOOST_TEST(rle_from_string(s, m.height, m.width).counts == r.counts);
      BOOST_TEST(rle_area(r) == count_on(m));
      BOOST_TEST((rle_to_bbox(r) == mask_bbox(m)));
    }
}

BOOST_AUTO_TEST_CASE(compressed_strings_by_hand) {
  // [0, 4]: one chunk each, '0' + value.
  BOOST_TEST(rle_to_string(make_rle(2, 2, {0, 4})) == "04");
  // [5, 3, 40, 100]: 40 = 8 + 1*32 -> chunks 8|0x20 ('X'), 1 ('1'); the 4th count is
  // coded as 100 - 3 = 97 = 1 + 3*32 -> 1|0x20 ('Q'), 3 ('3').
  BOOST_TEST(rle_to_string(make_rle(4, 37, {5, 3, 40, 100})) == "53X1Q3");
  // [10, 20, 30, 5]: 20 = 10100b and 30 = 11110b have bit 0x10 set, which would
  // read as a sign, so each takes a second, zero chunk: 20|0x20 ('d') '0' and
  // 30|0x20 ('n') '0'. The 4th count is 5 - 20 = -15: its low 5 bits are 10001b
  // (17 -> 'A') and the rest is all ones, so that one chunk with the sign suffices.
  BOOST_TEST(rle_to_string(make_rle(5, 13, {10, 20, 30, 5})) == ":d0n0A");
  BOOST_TEST(rle_from_string(":d0n0A", 5, 13).counts == std::vector<uint32_t>({10, 20, 30, 5}));
  // Without the extra chunk, 'D' (20) would decode as 20 - 32 = -12: refused.
  BOOST_CHECK_THROW(rle_from_string(":Dn0A", 5, 13), std::invalid_argument);
  BOOST_TEST(rle_from_string("53X1Q3", 4, 37).counts == std::vector<uint32_t>({5, 3, 40, 100}));
  // Malformed: wrong total, a character outside '0'..'o', a count cut off.
  BOOST_CHECK_THROW(rle_from_string("04", 2, 3), std::invalid_argument);
  BOOST_CHECK_THROW(rle_from_string("0~", 2, 2), std::invalid_argument);
  BOOST_CHECK_THROW(rle_from_string("0X", 2, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(merge_and_iou_match_brute_force) {
  Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const int h = 1 + static_cast<int>(rng.below(30)), w = 1 + static_cast<int>(rng.below(30));
    const Mask a = random_mask(h, w, 0.4f, rng), b = random_mask(h, w, 0.4f, rng);
    Mask uni(h, w), inter(h, w);
    for (size_t i = 0; i < a.data.size(); ++i) {
      uni.data[i] = a.data[i] | b.data[i];
      inter.data[i] = a.data[i] & b.data[i];
    }
    const Rle ra = rle_encode(a), rb = rle_encode(b);
    BOOST_TEST(rle_merge({ra, rb}, false).counts == rle_encode(uni).counts);
    BOOST_TEST(rle_merge({ra, rb}, true).counts == rle_encode(inter).counts);
    const double u = double(count_on(uni)), i = double(count_on(inter));
    BOOST_TEST(rle_iou(ra, rb) == (u > 0 ? i / u : 0.0));
    const double area_a = double(count_on(a));
    BOOST_TEST(rle_iou(ra, rb, true) == (area_a > 0 ? i / area_a : 0.0));
  }
  // Counts with empty runs in the middle (legal in COCO files) merge correctly.
  const Rle odd = make_rle(1, 6, {1, 0, 2, 3});  // 000111
  BOOST_TEST(rle_merge({odd, make_rle(1, 6, {0, 1, 5})}).counts == std::vector<uint32_t>({0, 1, 2, 3}));
  BOOST_CHECK_THROW(rle_merge({odd, make_rle(2, 3, {6})}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(polygon_rasterisation_of_simple_shapes) {
  // A square with corners on pixel borders covers exactly the pixels inside it.
  const Mask sq = rle_decode(rle_from_polygon({1, 1, 4, 1, 4, 4, 1, 4}, 6, 6));
  BOOST_TEST(picture(sq) ==
             "......\n"
             ".###..\n"
             ".###..\n"
             ".###..\n"
             "......\n"
             "......\n");
  // Orientation does not matter.
  BOOST_TEST(rle_decode(rle_from_polygon({1, 1, 1, 4, 4, 4, 4, 1}, 6, 6)).data == sq.data);
  // A right triangle: pixels whose centre is inside (x + y + 1 < 4).
  const Mask tri = rle_decode(rle_from_polygon({0, 0, 4, 0, 0, 4}, 5, 5));
  BOOST_TEST(picture(tri) ==
             "###..\n"
             "##...\n"
             "#....\n"
             ".....\n"
             ".....\n");
  // A box through frBbox's polygon, and a union of two polygons.
  const Rle box = rle_from_bbox({1, 2, 3, 2}, 5, 6);
  BOOST_TEST((rle_to_bbox(box) == std::array<double, 4>{1, 2, 3, 2}));
  BOOST_TEST(rle_area(box) == 6u);
  const Rle two = rle_from_polygons({{0, 0, 2, 0, 2, 2, 0, 2}, {3, 3, 5, 3, 5, 5, 3, 5}}, 5, 5);
  BOOST_TEST(rle_area(two) == 8u);
  // Parts outside the image are clipped.
  const Rle big = rle_from_polygon({-10, -10, 20, -10, 20, 20, -10, 20}, 4, 3);
  BOOST_TEST(rle_area(big) == 12u);
  // Sizes whose pixel count does not fit COCO's 32-bit counts are refused.
  BOOST_CHECK_THROW(rle_from_polygon({0, 0, 1, 0, 1, 1}, 70000, 70000), std::invalid_argument);
  BOOST_CHECK_THROW(rle_from_polygon({0, 0, 1, 0, 1}, 5, 5), std::invalid_argument);
}

// tests/golden/coco/polygons.json: 12 real labelme polygons, 60 random ones (arbitrary,
// integer and 0.1-grid vertices, partly outside the image) and 100 random
// self-intersecting ones (8-12 vertices), with the masks, areas, boxes, unions,
// intersections and IoUs computed by COCO's own C implementation (maskApi.c).
// Everything must match exactly.
BOOST_AUTO_TEST_CASE(golden_polygons_match_reference_maskapi) {
  const std::string path = std::string(DETLAB_SOURCE_DIR) + "/tests/golden/coco/polygons.json";
  const auto doc = nlohmann::json::parse(read_file_text(path));
  auto polys = [](const nlohmann::json& j) { return j.get<std::vector<std::vector<double>>>(); };
  int n = 0;
  for (const auto& c : doc.at("cases")) {
    const int h = c.at("h"), w = c.at("w");
    const std::string src = c.at("source");
    const Rle a = rle_from_polygons(polys(c.at("a")), h, w);
    const Rle b = rle_from_polygons(polys(c.at("b")), h, w);
    BOOST_TEST(rle_to_string(a) == c.at("a_counts").get<std::string>(), src);
    BOOST_TEST(rle_to_string(b) == c.at("b_counts").get<std::string>(), src);
    BOOST_TEST(rle_from_string(c.at("a_counts"), h, w).counts == a.counts, src);
    BOOST_TEST(rle_area(a) == c.at("a_area").get<uint64_t>(), src);
    BOOST_TEST((rle_to_bbox(a) == c.at("a_bbox").get<std::array<double, 4>>()), src);
    BOOST_TEST(rle_to_string(rle_merge({a, b})) == c.at("union_counts").get<std::string>(), src);
    BOOST_TEST(rle_to_string(rle_merge({a, b}, true)) == c.at("inter_counts").get<std::string>(), src);
    BOOST_TEST(rle_iou(a, b) == c.at("iou").get<double>(), src);
    BOOST_TEST(rle_iou(a, b, true) == c.at("iou_crowd").get<double>(), src);
    ++n;
  }
  BOOST_TEST(n == 172);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(coco_files)

BOOST_AUTO_TEST_CASE(dataset_round_trip_all_segmentation_kinds) {
  TempDir tmp;
  CocoDataset d;
  d.images.push_back({1, "a.png", 6, 4});
  d.categories.push_back({1, "person", "human", {"head", "neck", "hip"}, {{1, 2}, {2, 3}}});
  d.categories.push_back({2, "box", "", {}, {}});
  CocoAnnotation poly;
  poly.id = 10;
  poly.image_id = 1;
  poly.category_id = 2;
  poly.bbox = {1, 1, 3, 2};
  poly.area = 6;
  poly.segmentation.kind = CocoSegmentation::Kind::Polygons;
  poly.segmentation.polygons = {{1, 1, 4, 1, 4, 3, 1, 3}};
  CocoAnnotation crowd = poly;
  crowd.id = 11;
  crowd.iscrowd = true;
  crowd.segmentation.kind = CocoSegmentation::Kind::Rle;
  crowd.segmentation.rle = make_rle(4, 6, {5, 3, 16});
  CocoAnnotation comp = poly;
  comp.id = 12;
  comp.segmentation.kind = CocoSegmentation::Kind::CompressedRle;
  comp.segmentation.rle = make_rle(4, 6, {1, 2, 3, 4, 14});
  comp.keypoints = {1, 1, 2, 2, 2, 1, 0, 0, 0};
  comp.num_keypoints = 2;
  d.annotations = {poly, crowd, comp};

  write_coco(tmp.path("d.json"), d);
  const CocoDataset r = read_coco(tmp.path("d.json"));
  BOOST_REQUIRE(r.annotations.size() == 3u);
  BOOST_TEST(r.images[0].file_name == "a.png");
  BOOST_TEST(r.find_image(1)->width == 6);
  BOOST_TEST(r.find_image(2) == nullptr);
  BOOST_TEST(r.find_category(1)->keypoints.size() == 3u);
  BOOST_TEST((r.find_category(1)->skeleton == std::vector<std::pair<int, int>>{{1, 2}, {2, 3}}));
  BOOST_TEST(r.annotations[0].segmentation.polygons == poly.segmentation.polygons);
  BOOST_TEST((r.annotations[0].bbox == poly.bbox));
  BOOST_TEST(r.annotations[1].iscrowd);
  BOOST_TEST((r.annotations[1].segmentation.kind == CocoSegmentation::Kind::Rle));
  BOOST_TEST(r.annotations[1].segmentation.rle.counts == crowd.segmentation.rle.counts);
  BOOST_TEST((r.annotations[2].segmentation.kind == CocoSegmentation::Kind::CompressedRle));
  BOOST_TEST(r.annotations[2].segmentation.rle.counts == comp.segmentation.rle.counts);
  BOOST_TEST(r.annotations[2].keypoints == comp.keypoints);
  BOOST_TEST(r.annotations[2].num_keypoints == 2);
  // The polygon and the RLE of the same rectangle decode to the same mask.
  BOOST_TEST(annotation_to_rle(r.annotations[0], 4, 6).counts ==
             rle_encode(rle_decode(annotation_to_rle(r.annotations[0], 4, 6))).counts);
  BOOST_TEST(rle_area(annotation_to_rle(r.annotations[0], 4, 6)) == 6u);
}

BOOST_AUTO_TEST_CASE(results_round_trip) {
  TempDir tmp;
  CocoAnnotation det;
  det.image_id = 3;
  det.category_id = 5;
  det.bbox = {1.5, 2.25, 10, 20};
  det.score = 0.875;
  CocoAnnotation seg = det;
  seg.segmentation.kind = CocoSegmentation::Kind::CompressedRle;
  seg.segmentation.rle = make_rle(4, 4, {2, 2, 12});
  write_coco_results(tmp.path("r.json"), {det, seg});
  const auto r = read_coco_results(tmp.path("r.json"));
  BOOST_REQUIRE(r.size() == 2u);
  BOOST_TEST(r[0].score == 0.875);
  BOOST_TEST((r[0].bbox == det.bbox));
  BOOST_TEST(r[1].segmentation.rle.counts == seg.segmentation.rle.counts);
  // A results entry without a score is refused.
  write_file_atomic(tmp.path("bad.json"), std::string(R"([{"image_id":1,"category_id":1,"bbox":[0,0,1,1]}])"));
  BOOST_CHECK_THROW(read_coco_results(tmp.path("bad.json")), FileError);
}

BOOST_AUTO_TEST_CASE(malformed_files_name_file_and_field) {
  TempDir tmp;
  const std::string p = tmp.path("bad.json");
  expect_error_mentions(p, "{\"images\": [", {"malformed JSON"});
  expect_error_mentions(p, "[]", {"expected a JSON object"});
  expect_error_mentions(p, R"({"images": [], "categories": []})", {"missing field 'annotations'"});
  expect_error_mentions(p, R"({"images": [{"id": 1, "file_name": "a", "width": 3}], "categories": [], "annotations": []})",
                        {"images[0]", "missing field 'height'"});
  expect_error_mentions(p, R"({"images": [], "categories": [{"id": 1, "name": 7}], "annotations": []})",
                        {"categories[0].name", "expected a string"});
  expect_error_mentions(p, R"({"images": [], "categories": [], "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "area": 1, "iscrowd": 0}]})",
                        {"annotations[0]", "missing field 'bbox'"});
  expect_error_mentions(p, R"({"images": [], "categories": [], "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "area": 1, "iscrowd": 0, "bbox": [0, 0, 1, 1],
       "segmentation": {"size": [2, 2], "counts": "05"}}]})",
                        {"annotations[0].segmentation.counts", "sum"});
  expect_error_mentions(p, R"({"images": [], "categories": [], "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "area": 1, "iscrowd": 1, "bbox": [0, 0, 1, 1],
       "segmentation": {"size": [2, 2], "counts": [1.5, 2.5]}}]})",
                        {"annotations[0].segmentation.counts", "integers"});
  BOOST_CHECK_THROW(read_coco(tmp.path("missing.json")), FileError);
}

// What parses as JSON but would give wrong numbers downstream: refused by name.
BOOST_AUTO_TEST_CASE(semantically_bad_annotations_are_refused) {
  TempDir tmp;
  const std::string p = tmp.path("bad.json");
  const std::string image = R"({"id": 1, "file_name": "a.png", "width": 4, "height": 3})";
  auto doc = [&](const std::string& images, const std::string& ann) {
    return R"({"categories": [{"id": 1, "name": "x"}], "images": [)" + images +
           R"(], "annotations": [)" + ann + "]}";
  };
  auto ann = [](const std::string& fields) {
    return R"({"id": 1, "image_id": 1, "category_id": 1, "area": 1, "iscrowd": 0, )" + fields + "}";
  };
  expect_error_mentions(p, doc(image, ann(R"("bbox": [0, 0, -2, 1])")),
                        {"annotations[0].bbox", "negative width"});
  expect_error_mentions(p, doc(image, ann(R"("bbox": [0, 0, 1e30, 1])")),
                        {"annotations[0].bbox[2]", "out of range"});
  expect_error_mentions(p, doc(image, ann(R"("bbox": [0, 0, 1, 1], "segmentation": [[0, 0, 1e30, 0, 1, 1]])")),
                        {"annotations[0].segmentation[0][2]", "out of range"});
  expect_error_mentions(p, doc(image, R"({"id": 1, "image_id": 7, "category_id": 1, "area": 1, "iscrowd": 0, "bbox": [0, 0, 1, 1]})"),
                        {"annotations[0].image_id", "no image with id 7"});
  expect_error_mentions(p, doc(image + ", " + image, ""), {"images[1].id", "duplicate image id 1"});
  expect_error_mentions(p, doc(R"({"id": 1, "file_name": "a.png", "width": 4294967424, "height": 3})", ""),
                        {"images[0]", "1..1000000"});
  expect_error_mentions(p, doc(image, ann(R"("bbox": [0, 0, 1, 1], "segmentation": {"size": [2, 2], "counts": [4]})")),
                        {"annotations[0].segmentation", "not the image's 3x4"});
  expect_error_mentions(p, doc(image, R"({"id": 1, "image_id": 1, "category_id": 1, "area": -5, "iscrowd": 0, "bbox": [0, 0, 1, 1]})"),
                        {"annotations[0].area"});
  // A number beyond double's range is nlohmann's out_of_range, not a parse_error: it used
  // to escape as "[json.exception.out_of_range.406] number overflow" without the file.
  expect_error_mentions(p, doc(R"({"id": 1, "file_name": "a.png", "width": 1e999, "height": 3})", ""),
                        {"bad.json", "malformed JSON", "overflow"});
  // Image paths stay inside the dataset folder: no absolute paths, no ".." steps.
  for (const char* name : {"/etc/passwd", "../secret.png", "images/../../x.png", "a\\\\..\\\\..\\\\x.png"})
    expect_error_mentions(p, doc(R"({"id": 1, "file_name": ")" + std::string(name) + R"(", "width": 4, "height": 3})", ""),
                          {"images[0].file_name", "relative path inside the dataset folder"});
  write_file_atomic(p, doc(R"({"id": 1, "file_name": "images/..x../a.png", "width": 4, "height": 3})", ""));
  BOOST_TEST(read_coco(p).images.size() == 1u);  // ".." inside a name is not a step up
  // Skeleton joints index the category's keypoints (1-based); 1e30 was cast to int.
  const std::string kps = R"({"id": 1, "name": "p", "keypoints": ["a", "b"], "skeleton": )";
  for (const char* limb : {"[[1, 1e30]]", "[[0, 1]]", "[[1, 3]]", "[[1.5, 2]]"})
    expect_error_mentions(p, R"({"images": [], "annotations": [], "categories": [)" + kps + limb + "}]}",
                          {"categories[0].skeleton[0]", "1..2"});
  // The same document with sane values parses.
  write_file_atomic(p, doc(image, ann(R"("bbox": [0.5, 0, 2, 1.25])")));
  BOOST_TEST(read_coco(p).annotations.size() == 1u);
}

// The labelme example: 3 PASCAL VOC 2011 photos, 12 instances annotated as polygons
// (COCO annotations.json) and painted into an instance PNG by labelme2voc (PIL's
// polygon fill, in shape order, so later shapes cover earlier ones).
BOOST_AUTO_TEST_CASE(labelme_polygons_agree_with_painted_pngs) {
  const std::string dir = samples_dir();
  const CocoDataset d = read_coco(dir + "/annotations.json");
  BOOST_TEST(d.images.size() == 3u);
  BOOST_TEST(d.annotations.size() == 12u);
  BOOST_TEST(d.find_category(15)->name == "person");
  double worst = 1.0;
  for (const CocoImage& im : d.images) {
    const std::string stem = fs::path(im.file_name).stem().string();
    const Image photo = load_image(dir + "/" + im.file_name);
    BOOST_TEST(photo.width == im.width);
    BOOST_TEST(photo.height == im.height);
    const Image obj = load_image(dir + "/SegmentationObjectPNG/" + stem + ".png", 3);
    const Image cls = load_image(dir + "/SegmentationClassPNG/" + stem + ".png", 3);
    BOOST_REQUIRE(obj.width == im.width && obj.height == im.height);
    // Instance and class labels from the VOC colour map.
    std::vector<int> inst(obj.pixels.size() / 3), label(inst.size());
    for (size_t i = 0; i < inst.size(); ++i) {
      inst[i] = voc_label_of({obj.pixels[3 * i], obj.pixels[3 * i + 1], obj.pixels[3 * i + 2]});
      label[i] = voc_label_of({cls.pixels[3 * i], cls.pixels[3 * i + 1], cls.pixels[3 * i + 2]});
      BOOST_REQUIRE(inst[i] >= 0);
    }
    for (const CocoAnnotation& a : d.annotations) {
      if (a.image_id != im.id) continue;
      const Mask m = rle_decode(annotation_to_rle(a, im.height, im.width));
      // The painted instance is the one that overlaps the polygon most.
      std::map<int, int> overlap;
      for (size_t i = 0; i < inst.size(); ++i)
        if (m.data[i] && inst[i] > 0) ++overlap[inst[i]];
      BOOST_REQUIRE(!overlap.empty());
      const int k = std::max_element(overlap.begin(), overlap.end(), [](auto& x, auto& y) {
                      return x.second < y.second;
                    })->first;
      // Compare on the visible part: pixels painted as another instance are occluded.
      uint64_t inter = 0, uni = 0, class_ok = 0, painted = 0;
      for (size_t i = 0; i < inst.size(); ++i) {
        const bool p = inst[i] == k, q = m.data[i] && (inst[i] == 0 || inst[i] == k);
        inter += p && q;
        uni += p || q;
        if (p) {
          ++painted;
          class_ok += label[i] == a.category_id;
        }
      }
      const double iou = double(inter) / double(uni);
      worst = std::min(worst, iou);
      BOOST_TEST_MESSAGE(stem << " ann " << a.id << " cat " << a.category_id << " inst " << k
                              << " IoU " << iou << " area " << rle_area(annotation_to_rle(a, im.height, im.width))
                              << " (file says " << a.area << ")");
      BOOST_TEST(class_ok == painted);  // the class PNG agrees with category_id
      // The painted PNG and frPoly differ only along the outline (PIL also fills
      // pixels the edge touches), a band about one pixel wide: for these objects
      // (perimeter/area small) that costs well under 10% of the union.
      BOOST_TEST(iou >= 0.9, stem << " annotation " << a.id << " IoU " << iou);
      // area in the file came from the PIL mask: within the same border band.
      const double area = double(rle_area(annotation_to_rle(a, im.height, im.width)));
      BOOST_TEST(std::abs(area - a.area) <= 0.1 * a.area);
    }
  }
  BOOST_TEST_MESSAGE("labelme polygons vs painted PNG: worst visible-part IoU " << worst);
}

BOOST_AUTO_TEST_SUITE_END()
