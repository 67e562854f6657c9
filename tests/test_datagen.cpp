// The data generator: same seed -> same bytes for any thread count; annotations that
// agree with the pixels (RLE area, tight boxes, semantic masks, the pasted items of
// the requested split); pose figures with plausible limbs and honest visibility
// flags; and bin/datagen's error conventions.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "data/batch_prefetch.h"
#include "data/coco.h"
#include "data/figures.h"
#include "data/rle.h"
#include "data/scenes.h"
#include "image/image.h"
#include "image/transforms.h"
#include "util/files.h"

using namespace dl;
namespace fs = std::filesystem;

namespace {

const std::string kTextures = std::string(DETLAB_SOURCE_DIR) + "/data/samples/skimage";

const SceneSources& sources(const std::string& split) {
  static const SceneSources train = load_scene_sources("train", kFashionMnistDir, kTextures);
  static const SceneSources test = load_scene_sources("test", kFashionMnistDir, kTextures);
  return split == "train" ? train : test;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("test_datagen_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Runs bin/datagen with `args`; stderr goes to `err_file`. Returns the exit status.
int run_datagen(const std::string& args, const fs::path& err_file) {
  const std::string cmd = std::string(DETLAB_BIN_DIR) + "/datagen " + args + " >/dev/null 2>" +
                          err_file.string();
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const fs::path& p) { return read_file_text(p.string()); }

// Every file under a and b, compared byte for byte.
void require_same_tree(const fs::path& a, const fs::path& b) {
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(a)) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), a);
    BOOST_REQUIRE_MESSAGE(fs::exists(b / rel), rel.string() << " missing");
    BOOST_CHECK_MESSAGE(slurp(e.path()) == slurp(b / rel), rel.string() << " differs");
    ++files;
  }
  int files_b = 0;
  for (const auto& e : fs::recursive_directory_iterator(b)) files_b += e.is_regular_file();
  BOOST_CHECK_EQUAL(files, files_b);
  BOOST_CHECK_GT(files, 2);
}

// The pasted item's full mask (before occlusion), from the split's pixels.
Mask item_mask(const SceneObject& o, const FashionMnist& items, int width, int height) {
  Image src(items.cols, items.rows, 1);
  for (int y = 0; y < items.rows; ++y)
    for (int x = 0; x < items.cols; ++x)
      src.at(o.flipped ? items.cols - 1 - x : x, y) = items.image(o.item)[y * items.cols + x];
  const Image s = resize_bilinear(src, o.size, o.size);
  Mask m(height, width);
  for (int y = 0; y < o.size; ++y)
    for (int x = 0; x < o.size; ++x) {
      const int ix = x + o.x, iy = y + o.y;
      if (ix >= 0 && iy >= 0 && ix < width && iy < height)
        m.at(ix, iy) = s.at(x, y) > kMaskThreshold * 255.0f;
    }
  return m;
}

int64_t count_inside(const Mask& a, const Mask& b) {  // |a & b|
  int64_t n = 0;
  for (size_t i = 0; i < a.data.size(); ++i) n += a.data[i] && b.data[i];
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(datagen)

// BatchPrefetch hands out exactly what build(index) gives, whether the batch was made
// ahead, made on the spot after a batch made ahead for nothing, or failed.
BOOST_AUTO_TEST_CASE(batch_prefetch_gives_the_built_batches) {
  std::vector<int64_t> built;  // written by one thread at a time: take() waits for the helper
  auto build = [&built](int64_t i) {
    if (i == 7) throw std::runtime_error("batch 7 cannot be made");
    built.push_back(i);
    return std::vector<int64_t>{i, i * i};
  };
  {
    BatchPrefetch<std::vector<int64_t>> batches(build);
    for (int64_t s = 0; s < 5; ++s)
      BOOST_TEST((batches.take(s, s + 1 < 5 ? s + 1 : -1) == std::vector<int64_t>{s, s * s}));
    BOOST_TEST((batches.take(3, 4) == std::vector<int64_t>{3, 9}));  // 4 made ahead...
    BOOST_TEST((batches.take(2) == std::vector<int64_t>{2, 4}));     // ...for nothing
    BOOST_CHECK_THROW(batches.take(7), std::runtime_error);
    BOOST_TEST((batches.take(6, 7) == std::vector<int64_t>{6, 36}));
    BOOST_CHECK_THROW(batches.take(7), std::runtime_error);  // the error made ahead
  }
  std::vector<int64_t> sorted = built;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t s = 0; s < 5; ++s)
    BOOST_TEST(std::count(sorted.begin(), sorted.end(), s) >= 1);
}

BOOST_AUTO_TEST_CASE(scene_is_a_pure_function_of_seed_and_index) {
  SceneOptions o;
  o.width = o.height = 64;
  o.max_scale = 32;
  o.seed = 5;
  const Scene a = generate_scene(o, sources("train"), 3);
  const Scene b = generate_scene(o, sources("train"), 3);
  BOOST_CHECK(a.image.pixels == b.image.pixels);
  BOOST_REQUIRE_EQUAL(a.objects.size(), b.objects.size());
  for (size_t k = 0; k < a.objects.size(); ++k) BOOST_CHECK(a.objects[k].mask.data == b.objects[k].mask.data);
  const Scene c = generate_scene(o, sources("train"), 4);
  o.seed = 6;
  const Scene d = generate_scene(o, sources("train"), 3);
  BOOST_CHECK(a.image.pixels != c.image.pixels);
  BOOST_CHECK(a.image.pixels != d.image.pixels);
}

BOOST_AUTO_TEST_CASE(objects_are_the_split_items_with_occlusion) {
  SceneOptions o;
  o.width = o.height = 96;
  o.max_scale = 48;
  o.min_objects = 2;
  o.max_objects = 4;
  o.seed = 11;
  int objects = 0, occluded = 0, compared = 0, mismatch = 0;
  for (const std::string split : {"train", "test"}) {
    o.split = split;
    const FashionMnist& items = sources(split).items;
    const FashionMnist& other = sources(split == "train" ? "test" : "train").items;
    for (int64_t i = 0; i < 6; ++i) {
      const Scene s = generate_scene(o, sources(split), i);
      BOOST_REQUIRE(!s.objects.empty());
      BOOST_CHECK_LE(s.objects.size(), 4u);
      for (size_t k = 0; k < s.objects.size(); ++k) {
        const SceneObject& ob = s.objects[k];
        BOOST_REQUIRE_LT(ob.item, items.count);
        BOOST_CHECK_EQUAL(ob.category_id, items.labels[ob.item] + 1);
        const Mask full = item_mask(ob, items, o.width, o.height);
        const int64_t full_area = count_inside(full, full);
        // Visible pixels are pixels of this item; at least half of it stays visible.
        BOOST_CHECK_EQUAL(count_inside(ob.mask, full), ob.area);
        BOOST_CHECK_GE(ob.area, kMinVisibleFraction * full_area);
        occluded += ob.area < full_area;
        // The topmost object is seen whole.
        if (k + 1 == s.objects.size()) BOOST_CHECK(ob.mask.data == full.data);
        // The same index in the other split is (almost surely) a different picture.
        if (ob.item < other.count) {
          ++compared;
          mismatch += item_mask(ob, other, o.width, o.height).data != full.data;
        }
        ++objects;
      }
      // Instance masks are disjoint.
      for (size_t k = 0; k < s.objects.size(); ++k)
        for (size_t l = k + 1; l < s.objects.size(); ++l)
          BOOST_CHECK_EQUAL(count_inside(s.objects[k].mask, s.objects[l].mask), 0);
    }
  }
  BOOST_CHECK_GT(objects, 20);
  BOOST_CHECK_GT(occluded, 0);
  BOOST_CHECK_GT(compared, 10);
  BOOST_CHECK_GE(mismatch, compared - 1);
}

BOOST_AUTO_TEST_CASE(single_gives_exactly_one_object) {
  SceneOptions o;
  o.width = o.height = 64;
  o.max_scale = 40;
  o.single = true;
  o.min_objects = 3;  // ignored by --single
  o.max_objects = 5;
  for (int64_t i = 0; i < 10; ++i) {
    const Scene s = generate_scene(o, sources("test"), i);
    BOOST_CHECK_EQUAL(s.objects.size(), 1u);
    BOOST_CHECK_GT(s.objects[0].area, 0);
  }
}

BOOST_AUTO_TEST_CASE(options_are_validated) {
  SceneOptions o;
  o.max_scale = 200;  // larger than the 128-pixel image
  BOOST_CHECK_THROW(validate(o), std::invalid_argument);
  o = SceneOptions();
  o.min_objects = 3;
  o.max_objects = 2;
  BOOST_CHECK_THROW(validate(o), std::invalid_argument);
  o = SceneOptions();
  o.split = "val";
  BOOST_CHECK_THROW(validate(o), std::invalid_argument);
  BOOST_CHECK_NO_THROW(validate(SceneOptions()));
}

BOOST_AUTO_TEST_CASE(tool_output_is_thread_independent_and_consistent) {
  TempDir tmp;
  const fs::path err = tmp.path / "err.txt";
  const std::string common = "scenes --count 6 --size 64 --split test --seed 7 --textures " + kTextures;
  BOOST_REQUIRE_EQUAL(run_datagen(common + " --threads 1 --out " + (tmp.path / "a").string(), err), 0);
  BOOST_REQUIRE_EQUAL(run_datagen(common + " --threads 2 --out " + (tmp.path / "b").string(), err), 0);
  require_same_tree(tmp.path / "a", tmp.path / "b");
  BOOST_REQUIRE_EQUAL(run_datagen("scenes --count 6 --size 64 --split test --seed 8 --textures " +
                                  kTextures + " --out " + (tmp.path / "c").string(), err), 0);
  BOOST_CHECK(slurp(tmp.path / "a/annotations.json") != slurp(tmp.path / "c/annotations.json"));

  // Annotations against pixels.
  const CocoDataset d = read_coco((tmp.path / "a/annotations.json").string());
  BOOST_REQUIRE_EQUAL(d.images.size(), 6u);
  BOOST_REQUIRE_EQUAL(d.categories.size(), 10u);
  BOOST_CHECK_EQUAL(d.categories[9].name, "Ankle boot");
  BOOST_CHECK_GE(d.annotations.size(), 6u);
  for (const CocoImage& im : d.images) {
    const Image sem = load_image((tmp.path / "a/masks" / im.file_name).string(), 1);
    const Image rgb = load_image((tmp.path / "a/images" / im.file_name).string(), 3);
    BOOST_REQUIRE_EQUAL(sem.width, 64);
    BOOST_REQUIRE_EQUAL(rgb.height, 64);
    std::vector<uint8_t> painted(sem.pixels.size(), 0);
    for (const CocoAnnotation& a : d.annotations) {
      if (a.image_id != im.id) continue;
      BOOST_CHECK(!a.iscrowd);
      BOOST_REQUIRE(a.segmentation.kind == CocoSegmentation::Kind::CompressedRle);
      const Rle& r = a.segmentation.rle;
      BOOST_CHECK_EQUAL(static_cast<double>(rle_area(r)), a.area);
      BOOST_CHECK_GT(a.area, 0);
      const Mask m = rle_decode(r);
      const auto box = mask_bbox(m);
      for (int k = 0; k < 4; ++k) BOOST_CHECK_EQUAL(box[k], a.bbox[k]);
      for (size_t p = 0; p < m.data.size(); ++p)
        if (m.data[p]) {
          BOOST_CHECK_EQUAL(painted[p], 0);  // instance masks are disjoint
          painted[p] = static_cast<uint8_t>(a.category_id);
        }
    }
    BOOST_CHECK(painted == sem.pixels);
  }
}

BOOST_AUTO_TEST_CASE(figures_have_plausible_annotated_poses) {
  const std::vector<Image> textures = load_textures(kTextures);
  FigureOptions o;
  o.width = o.height = 96;
  o.occlusion_prob = 1.0f;
  o.outside_prob = 0.5f;
  BOOST_REQUIRE_EQUAL(figure_joint_names().size(), 14u);
  BOOST_CHECK_EQUAL(figure_joint_names()[0], "right_foot");
  BOOST_CHECK_EQUAL(figure_joint_names()[13], "head_top");
  const CocoCategory cat = figure_category();
  for (const auto& [a, b] : cat.skeleton) {
    BOOST_CHECK(a >= 1 && a <= 14 && b >= 1 && b <= 14);
  }
  int hidden = 0, outside = 0, visible = 0;
  // Left/right counterparts: (right joint pair, left joint pair).
  const int pairs[4][4] = {{0, 1, 5, 4}, {1, 2, 4, 3}, {6, 7, 11, 10}, {7, 8, 10, 9}};
  for (int64_t i = 0; i < 20; ++i) {
    const Figure f = generate_figure(o, textures, i);
    BOOST_REQUIRE_EQUAL(f.keypoints.size(), 14u);
    auto dist = [&](int a, int b) {
      return std::hypot(f.joints[a][0] - f.joints[b][0], f.joints[a][1] - f.joints[b][1]);
    };
    for (const auto& [a, b] : figure_limbs()) {
      const float rel = dist(a, b) / f.body_height;
      BOOST_CHECK_MESSAGE(rel > 0.05f && rel < 0.4f, "limb " << a << "-" << b << " is " << rel);
    }
    for (const auto& p : pairs) {
      const float ratio = dist(p[0], p[1]) / dist(p[2], p[3]);
      BOOST_CHECK(ratio > 0.7f && ratio < 1.43f);
    }
    for (int k = 0; k < 14; ++k) {
      const Keypoint& kp = f.keypoints[k];
      const float x = f.joints[k][0], y = f.joints[k][1];
      const bool in_view = x >= 0 && y >= 0 && x < o.width && y < o.height;
      bool covered = false;
      for (const Occluder& oc : f.occluders) covered = covered || std::hypot(x - oc.x, y - oc.y) <= oc.radius;
      const int expect_v = !in_view ? 0 : covered ? 1 : 2;
      BOOST_CHECK_EQUAL(kp.v, expect_v);
      if (kp.v == 0) {
        BOOST_CHECK_EQUAL(kp.x, 0.0f);
        BOOST_CHECK_EQUAL(kp.y, 0.0f);
      } else {
        BOOST_CHECK_EQUAL(kp.x, x);
        BOOST_CHECK_EQUAL(kp.y, y);
      }
      hidden += kp.v == 1, outside += kp.v == 0, visible += kp.v == 2;
    }
    const CocoAnnotation a = figure_annotation(f, i + 1);
    BOOST_CHECK_EQUAL(a.keypoints.size(), 42u);
    BOOST_CHECK_EQUAL(static_cast<double>(rle_area(a.segmentation.rle)), a.area);
    BOOST_CHECK_GT(a.area, 0);
    const auto box = rle_to_bbox(a.segmentation.rle);
    for (int k = 0; k < 4; ++k) BOOST_CHECK_EQUAL(box[k], a.bbox[k]);
  }
  BOOST_CHECK_GT(hidden, 0);
  BOOST_CHECK_GT(outside, 0);
  BOOST_CHECK_GT(visible, 100);
}

BOOST_AUTO_TEST_CASE(figures_tool_is_thread_independent) {
  TempDir tmp;
  const fs::path err = tmp.path / "err.txt";
  const std::string common = "figures --count 5 --size 64 --seed 3 --textures " + kTextures;
  BOOST_REQUIRE_EQUAL(run_datagen(common + " --threads 1 --out " + (tmp.path / "a").string(), err), 0);
  BOOST_REQUIRE_EQUAL(run_datagen(common + " --threads 2 --out " + (tmp.path / "b").string(), err), 0);
  require_same_tree(tmp.path / "a", tmp.path / "b");
  const CocoDataset d = read_coco((tmp.path / "a/annotations.json").string());
  BOOST_REQUIRE_EQUAL(d.categories.size(), 1u);
  BOOST_CHECK_EQUAL(d.categories[0].keypoints.size(), 14u);
  BOOST_CHECK_EQUAL(d.categories[0].skeleton.size(), figure_limbs().size());
  BOOST_REQUIRE_EQUAL(d.annotations.size(), 5u);
  for (const CocoAnnotation& a : d.annotations) BOOST_CHECK_EQUAL(a.keypoints.size(), 42u);

  // show draws over the images: same size times --scale, and not a copy.
  BOOST_REQUIRE_EQUAL(run_datagen("show " + (tmp.path / "a/annotations.json").string() + " --images " +
                                  (tmp.path / "a/images").string() + " --out " +
                                  (tmp.path / "show").string() + " --scale 2 --limit 2",
                              err),
                      0);
  const Image shown = load_image((tmp.path / "show/000001.show.png").string());
  BOOST_CHECK_EQUAL(shown.width, 128);
  BOOST_CHECK(!fs::exists(tmp.path / "show/000003.show.png"));
}

BOOST_AUTO_TEST_CASE(bad_input_and_bad_flags) {
  TempDir tmp;
  const fs::path err = tmp.path / "err.txt";
  const fs::path bad = tmp.path / "broken.json";
  write_file_atomic(bad.string(), std::string("{\"images\": [ {\"id\": 1,"));
  BOOST_CHECK_EQUAL(run_datagen("show " + bad.string() + " --images " + tmp.path.string() + " --out " +
                                (tmp.path / "o").string(), err),
                    1);
  const std::string msg = slurp(err);
  BOOST_CHECK(msg.rfind("error: ", 0) == 0);
  BOOST_CHECK(msg.find(bad.string()) != std::string::npos);
  BOOST_CHECK_EQUAL(std::count(msg.begin(), msg.end(), '\n'), 1);

  // A JSON whose image file is missing: the message names that image.
  write_file_atomic((tmp.path / "ok.json").string(),
                    std::string(R"({"images":[{"id":1,"file_name":"nope.png","width":8,"height":8}],)"
                                R"("categories":[],"annotations":[]})"));
  BOOST_CHECK_EQUAL(run_datagen("show " + (tmp.path / "ok.json").string() + " --images " +
                                tmp.path.string() + " --out " + (tmp.path / "o").string(), err),
                    1);
  BOOST_CHECK(slurp(err).find("nope.png") != std::string::npos);

  BOOST_CHECK_EQUAL(run_datagen("scenes --out " + (tmp.path / "x").string() + " --split val", err), 2);
  BOOST_CHECK_EQUAL(run_datagen("scenes --out " + (tmp.path / "x").string() + " --min-objects 3 --max-objects 2", err), 2);
  BOOST_CHECK_EQUAL(run_datagen("scenes --count 2", err), 2);  // --out is required
  BOOST_CHECK_EQUAL(run_datagen("figures --out " + (tmp.path / "x").string() + " --textures " +
                                (tmp.path / "none").string() + " --count 1", err),
                    1);
  BOOST_CHECK(slurp(err).find("brick.png") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
