// bin/deeppose end to end on a tiny generated figure set: the stage-1 loss falls, eval
// and predict give outputs of the right shape and range, training is bit-identical
// for 1 and 2 threads, bad inputs give exit 1 with a one-line message naming the file
// (exit 2 for bad flags). Plus the cascade's geometry on hand-computed cases, and the
// figures' front/back cue that makes the person's own left/right learnable.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/figures.h"
#include "data/keypoint_dataset.h"
#include "nn/checkpoint.h"
#include "models/localizer.h"
#include "models/deeppose.h"
#include "models/classifier.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

const detlab_test::Program dp{"deeppose"};

// A tiny figures train/test pair (64 x 64 images), made once per test process.
const std::string& tiny_data() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = detlab_test::temp_dir("deeppose_data");
  for (const char* split : {"train", "test"}) {
    const bool train = split[1] == 'r';
    Run r = detlab_test::run_program("datagen",
                                     std::string("figures --quiet --size 64 --count ") +
                                         (train ? "128" : "24") + " --seed " +
                                         (train ? "3" : "4") + " --out " + dir + "/" + split,
                                     dir);
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deeppose_geometry)

BOOST_AUTO_TEST_CASE(normalisation_to_a_box_and_back) {
  // N(y; b) = (y - b_c) / b_wh with b_c = (50, 40), b_wh = (20, 10).
  const models::PoseBox b{50, 40, 20, 10};
  auto [u, v] = models::normalize_point(55, 35, b);
  BOOST_TEST(u == 0.25f);
  BOOST_TEST(v == -0.5f);
  auto [x, y] = models::denormalize_point(u, v, b);
  BOOST_TEST(x == 55.0f);
  BOOST_TEST(y == 35.0f);
  // The box corners map to -0.5 and 0.5.
  BOOST_TEST(models::normalize_point(40, 45, b).first == -0.5f);
  BOOST_TEST(models::normalize_point(40, 45, b).second == 0.5f);
}

BOOST_AUTO_TEST_CASE(cascade_window_and_displacement) {
  std::vector<float> pose(28, 0.0f);
  auto set = [&](int j, float x, float y) {
    pose[2 * j] = x;
    pose[2 * j + 1] = y;
  };
  set(9, 0, 0);    // left shoulder
  set(2, 3, 4);    // right hip: diagonal 5
  set(8, 10, 0);   // right shoulder
  set(3, 10, 8);   // left hip: diagonal 8
  set(6, 30, 20);  // right hand
  BOOST_TEST(models::pose_diameter(pose) == 6.5f);
  // A degenerate pose still gets a usable window.
  BOOST_TEST(models::pose_diameter(std::vector<float>(28, 1.0f)) == 4.0f);

  const models::PoseBox w = models::joint_window(pose, 6, 2.0f);
  BOOST_TEST(w.cx == 30.0f);
  BOOST_TEST(w.cy == 20.0f);
  BOOST_TEST(w.w == 13.0f);
  BOOST_TEST(w.h == 13.0f);
  // The true hand at (33.25, 16.75): displacement (3.25, -3.25) = (0.25, -0.25) windows.
  auto [u, v] = models::normalize_point(33.25f, 16.75f, w);
  BOOST_TEST(u == 0.25f);
  BOOST_TEST(v == -0.25f);
  // Stage s's joint from the regressed displacement recovers the truth.
  auto [x, y] = models::denormalize_point(u, v, w);
  BOOST_TEST(x == 33.25f);
  BOOST_TEST(y == 16.75f);
  BOOST_CHECK_THROW(models::joint_window(pose, 14, 1.0f), ShapeError);
}

BOOST_AUTO_TEST_CASE(window_targets_label_the_neighbours_near_the_centre) {
  const models::PoseBox w{32, 32, 16, 16};
  std::vector<float> kp(3 * 14, 0.0f);  // x, y, v per joint; v = 0: not labelled
  auto set = [&](int j, float x, float y, float v) {
    kp[3 * j] = x;
    kp[3 * j + 1] = y;
    kp[3 * j + 2] = v;
  };
  set(6, 44, 28, 2);   // the window's own joint, 0.75 windows right: still its target
  set(7, 28, 34, 2);   // (-0.25, 0.125): on the border of radius 0.25, included
  set(8, 36.5f, 32, 1);  // (0.28125, 0): hidden but labelled, outside radius 0.25
  set(9, 30, 30, 1);   // (-0.125, -0.125): hidden but labelled, inside
  set(10, 32, 32, 0);  // the centre, but not labelled
  std::vector<float> target(28, -9.0f), mask(28, -9.0f);
  models::window_targets(kp, 6, w, 0.25f, target.data(), mask.data());
  const std::vector<float> want_t = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.75f, -0.25f,
                                     -0.25f, 0.125f, 0, 0, -0.125f, -0.125f, 0, 0, 0, 0, 0, 0,
                                     0, 0};
  const std::vector<float> want_m = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
                                     1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  BOOST_TEST(target == want_t, boost::test_tools::per_element());
  BOOST_TEST(mask == want_m, boost::test_tools::per_element());
  // Radius 0: the paper's one joint per window.
  models::window_targets(kp, 6, w, 0.0f, target.data(), mask.data());
  BOOST_TEST(std::accumulate(mask.begin(), mask.end(), 0.0f) == 2.0f);
  BOOST_TEST(mask[12] == 1.0f);
  BOOST_CHECK_THROW(models::window_targets(kp, 14, w, 0.3f, target.data(), mask.data()), ShapeError);
}

BOOST_AUTO_TEST_CASE(facing_the_camera_decides_which_side_is_right) {
  // An upright figure: neck (50, 20), head top (50, 5); right hip on the image's left.
  std::vector<float> kp(42, 0.0f);
  auto set = [&](int j, float x, float y, float v = 2) {
    kp[3 * j] = x;
    kp[3 * j + 1] = y;
    kp[3 * j + 2] = v;
  };
  set(12, 50, 20);
  set(13, 50, 5);
  set(2, 45, 60);  // right hip
  set(3, 55, 60);  // left hip
  set(6, 20, 40);  // right hand
  set(11, 80, 45, 1);  // left hand, occluded
  BOOST_TEST(faces_camera(kp));
  std::vector<float> same = kp;
  relabel_facing_camera(same);
  BOOST_TEST(same == kp);
  // Upside down (a handstand) it still faces the camera: the test turns with the body.
  std::vector<float> turned = kp;
  for (int j = 0; j < 14; ++j) {
    turned[3 * j] = 100 - kp[3 * j];
    turned[3 * j + 1] = 100 - kp[3 * j + 1];
  }
  BOOST_TEST(faces_camera(turned));
  // Right hip on the image's right: seen from the back. Relabelling exchanges x, y and
  // v of every left/right pair and keeps neck and head.
  std::vector<float> back = kp;
  std::swap(back[3 * 2], back[3 * 3]);
  BOOST_TEST(!faces_camera(back));
  relabel_facing_camera(back);
  BOOST_TEST(back[3 * 2] == 45.0f);
  BOOST_TEST(back[3 * 3] == 55.0f);
  BOOST_TEST(back[3 * 11] == 20.0f);  // the old right hand is now the left hand
  BOOST_TEST(back[3 * 11 + 2] == 2.0f);
  BOOST_TEST(back[3 * 6] == 80.0f);
  BOOST_TEST(back[3 * 6 + 2] == 1.0f);
  BOOST_TEST(back[3 * 12] == 50.0f);
  BOOST_TEST(faces_camera(back));
  // Hips out of view: the shoulders and neck -> head top decide.
  std::vector<float> top(42, 0.0f);
  top.swap(kp);
  set(12, 50, 20);
  set(13, 50, 5);
  set(8, 40, 22);  // right shoulder
  set(9, 60, 22);
  BOOST_TEST(faces_camera(kp));
  std::swap(kp[3 * 8], kp[3 * 9]);
  BOOST_TEST(!faces_camera(kp));
  BOOST_CHECK_THROW(faces_camera(std::vector<float>(28)), std::invalid_argument);
  // The mirror is an involution.
  for (int j = 0; j < 14; ++j) BOOST_TEST(figure_mirror()[figure_mirror()[j]] == j);
}

BOOST_AUTO_TEST_CASE(figures_show_which_way_they_face) {
  // Without a cue a back view is a mirrored front view and "left" cannot be learnt
  // (lessons/02). The generator paints a face (skin below a hair cap) on figures facing
  // the camera and the back of the head (all hair) on the others.
  FigureOptions o;
  o.occlusion_prob = 0.0f;  // no blob over a head
  o.outside_prob = 0.0f;
  int away = 0, checked = 0, labelled_hips = 0;
  for (int64_t i = 0; i < 200; ++i) {
    const Figure f = generate_figure(o, {}, i);
    away += !f.faces_camera;
    // The face and hair colours differ clearly (hair is dark, skin has a bright channel).
    const int skin_max = std::max({f.skin.r, f.skin.g, f.skin.b});
    const int hair_max = std::max({f.hair.r, f.hair.g, f.hair.b});
    BOOST_TEST(skin_max - hair_max >= 60, "figure " << i);
    // The eval's split by labels (faces_camera) agrees with the generator's truth.
    std::vector<float> kp;
    for (const Keypoint& k : f.keypoints) kp.insert(kp.end(), {k.x, k.y, float(k.v)});
    if (f.keypoints[2].v > 0 && f.keypoints[3].v > 0) {
      ++labelled_hips;
      BOOST_TEST(faces_camera(kp) == f.faces_camera, "figure " << i);
    }
    // The head disc as the generator draws it (pixel-index coordinates).
    const float nx = f.joints[12][0] - 0.5f, ny = f.joints[12][1] - 0.5f;
    const float tx = f.joints[13][0] - 0.5f, ty = f.joints[13][1] - 0.5f;
    const float len = std::hypot(tx - nx, ty - ny), r = 0.45f * len;
    const float ax = (tx - nx) / len, ay = (ty - ny) / len;  // neck -> head top
    const float cx = tx - r * ax, cy = ty - r * ay;
    auto pixel = [&](float along) {
      const int x = static_cast<int>(std::lround(cx + along * r * ax));
      const int y = static_cast<int>(std::lround(cy + along * r * ay));
      BOOST_REQUIRE(f.image.contains(x, y));
      return Color{f.image.at(x, y, 0), f.image.at(x, y, 1), f.image.at(x, y, 2)};
    };
    auto same = [](Color a, Color b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
    if (r < 3.0f || !f.image.contains(int(cx - r), int(cy - r)) ||
        !f.image.contains(int(cx + r), int(cy + r)))
      continue;
    ++checked;
    // Lower face: skin from the front, hair from behind; the crown is hair either way.
    const Color face = pixel(-0.4f), crown = pixel(0.75f);
    BOOST_TEST(same(face, f.faces_camera ? f.skin : f.hair), "figure " << i);
    BOOST_TEST(same(crown, f.hair), "figure " << i);
  }
  BOOST_TEST(away > 40);  // 30 % of 200 face away
  BOOST_TEST(away < 80);
  BOOST_TEST(checked > 150);
  BOOST_TEST(labelled_hips > 150);
}

BOOST_AUTO_TEST_CASE(figures_left_limbs_can_be_darker) {
  // With left_shade < 1 the left forearm is drawn in the skin colour times left_shade,
  // the right one in the skin colour: sampled at the forearm's midpoint where nothing
  // is drawn over it.
  FigureOptions o;
  o.occlusion_prob = 0.0f;
  o.outside_prob = 0.0f;
  o.left_shade = 0.6f;  // off by default (lessons/02, exercise 3)
  int left_checked = 0, right_checked = 0;
  for (int64_t i = 0; i < 200; ++i) {
    const Figure f = generate_figure(o, {}, i);
    const Color dark{static_cast<uint8_t>(std::lround(f.skin.r * o.left_shade)),
                     static_cast<uint8_t>(std::lround(f.skin.g * o.left_shade)),
                     static_cast<uint8_t>(std::lround(f.skin.b * o.left_shade))};
    auto mid = [&](int a, int b) {
      return std::array<float, 2>{0.5f * (f.joints[a][0] + f.joints[b][0]),
                                  0.5f * (f.joints[a][1] + f.joints[b][1])};
    };
    // Distance from p to the segment a-b (image coordinates).
    auto seg_dist = [&](std::array<float, 2> p, int a, int b) {
      const float ax = f.joints[a][0], ay = f.joints[a][1];
      const float dx = f.joints[b][0] - ax, dy = f.joints[b][1] - ay;
      const float t = std::clamp(((p[0] - ax) * dx + (p[1] - ay) * dy) /
                                     std::max(dx * dx + dy * dy, 1e-6f), 0.0f, 1.0f);
      return std::hypot(p[0] - ax - t * dx, p[1] - ay - t * dy);
    };
    const float clear = 0.05f * f.body_height + 0.2f * f.body_height;  // arm width + head
    auto pixel = [&](std::array<float, 2> p) {
      const int x = static_cast<int>(std::floor(p[0])), y = static_cast<int>(std::floor(p[1]));
      return Color{f.image.at(x, y, 0), f.image.at(x, y, 1), f.image.at(x, y, 2)};
    };
    auto same = [](Color a, Color b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
    auto head_far = [&](std::array<float, 2> p) {
      return std::hypot(p[0] - f.joints[13][0], p[1] - f.joints[13][1]) > clear &&
             std::hypot(p[0] - f.joints[12][0], p[1] - f.joints[12][1]) > clear;
    };
    const auto l = mid(10, 11), r = mid(7, 6);
    if (head_far(l) && f.image.contains(int(l[0]), int(l[1]))) {
      ++left_checked;
      BOOST_TEST(same(pixel(l), dark), "figure " << i);
    }
    // The left arm is drawn after the right one: skip right forearms it crosses.
    if (head_far(r) && f.image.contains(int(r[0]), int(r[1])) && seg_dist(r, 10, 11) > clear &&
        seg_dist(r, 9, 10) > clear) {
      ++right_checked;
      BOOST_TEST(same(pixel(r), f.skin), "figure " << i);
    }
  }
  BOOST_TEST(left_checked > 50);
  BOOST_TEST(right_checked > 50);
  // Deterministic: the same index gives the same image.
  BOOST_TEST(generate_figure(o, {}, 7).image.pixels == generate_figure(o, {}, 7).image.pixels);
}

BOOST_AUTO_TEST_CASE(config_round_trip_and_refusals) {
  models::DeepPoseConfig c;
  c.sigma = 1.5f;
  c.stages.push_back(models::PoseRegressorConfig{});
  c.stages.push_back(models::refinement_config(2));
  const models::DeepPoseConfig d = models::DeepPoseConfig::from_json(c.to_json());
  BOOST_REQUIRE_EQUAL(d.stages.size(), 2u);
  BOOST_TEST(d.sigma == 1.5f);
  BOOST_TEST(d.stages[1].stage == 2);
  BOOST_TEST(d.stages[1].input_size == 32);
  BOOST_TEST(d.stages[0].channels == c.stages[0].channels);
  // A stage's config read as another stage, or another program's config, is refused.
  BOOST_CHECK_THROW(models::PoseRegressorConfig::from_json(c.stages[1].to_json(), 1),
                    std::invalid_argument);
  BOOST_CHECK_THROW(models::DeepPoseConfig::from_json(models::LocalizerConfig{}.to_json()),
                    std::invalid_argument);
  models::DeepPoseConfig swapped = c;
  std::swap(swapped.stages[0], swapped.stages[1]);
  BOOST_CHECK_THROW(models::DeepPoseConfig::from_json(swapped.to_json()), std::invalid_argument);

  // The network's output: 2K numbers per image, starting near the box centre.
  Rng rng(3);
  models::PoseRegressorConfig small;
  small.input_size = 32;
  small.channels = {4, 8};
  small.hidden = 16;
  models::PoseRegressor net(small, rng);
  net.eval();
  NoGradGuard no_grad;
  Tensor out = net(Var(uniform({2, 3, 32, 32}, -1.0f, 1.0f, rng))).value();
  BOOST_TEST(out.shape() == Shape({2, 28}));
  for (float o : out) BOOST_TEST(std::fabs(o) < 0.1f);
  BOOST_CHECK_THROW(net(Var(Tensor({1, 3, 16, 16}))), ShapeError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deeppose_program)

BOOST_AUTO_TEST_CASE(training_lowers_the_loss_and_outputs_are_well_formed) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("deeppose_train");
  const std::string model = dir + "/m.safetensors";
  Run t = dp("train --quiet --json --epochs 4 --cascade-epochs 1 --stages 2 --input 32 "
             "--cascade-channels 8 16 --cascade-hidden 32 "
             "--batch 16 --lr 0.003 --threads 2 --data " + data + " --model " + model,
             dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  const std::vector<double> loss = detlab_test::csv_column(dir + "/m.csv", 2);
  BOOST_REQUIRE_EQUAL(loss.size(), 4u);
  BOOST_TEST(loss.back() < 0.7 * loss.front(), "loss " << loss.front() << " -> " << loss.back());
  BOOST_TEST(detlab_test::csv_column(dir + "/m.stage2.csv", 2).size() == 1u);

  auto cfg = models::DeepPoseConfig::from_json(nn::read_checkpoint_metadata(model).at("config"));
  BOOST_REQUIRE(cfg.stages.size() == 2u);
  BOOST_TEST((cfg.stages[1].channels == std::vector<int>{8, 16}));  // --cascade-channels
  BOOST_TEST(cfg.stages[1].hidden == 32);
  BOOST_TEST(cfg.stages[1].input_size == 32);

  Run e = dp("eval --json --data " + data + " --model " + model, dir);
  BOOST_REQUIRE_MESSAGE(e.status == 0, e.err);
  json ej = json::parse(e.out);
  BOOST_TEST(ej["images"].get<int>() == 24);
  BOOST_TEST(ej["images_front"].get<int>() + ej["images_back"].get<int>() == 24);
  BOOST_TEST(ej["images_back"].get<int>() > 0);
  BOOST_REQUIRE_EQUAL(ej["stages"].size(), 2u);
  for (const auto& s : ej["stages"]) {
    for (const char* k : {"pck", "pdj", "pcp", "pck_front", "pck_back"}) {
      BOOST_TEST(s[k].get<double>() >= 0.0);
      BOOST_TEST(s[k].get<double>() <= 1.0);
    }
    // Better than guessing: errors well below the 64-pixel image size.
    BOOST_TEST(s["mean_error_px"].get<double>() > 0.0);
    BOOST_TEST(s["mean_error_px"].get<double>() < 20.0);
    BOOST_TEST(s["per_joint"].size() == 14u);
  }
  // Only a refinement stage has a move slope (how far it moves joints toward the truth).
  BOOST_TEST(!ej["stages"][0].contains("move_slope_within_8px"));
  BOOST_TEST(ej["stages"][1]["move_slope_within_8px"].is_number());

  const std::string img = data + "/test/images/" +
      json::parse(read_file_text(data + "/test/annotations.json"))["images"][0]["file_name"]
          .get<std::string>();
  Run p = dp("predict --json --names --out " + dir + " --model " + model + " " + img + " " +
                 DETLAB_SOURCE_DIR + "/data/samples/skimage/chelsea.png",
             dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  json pj = json::parse(p.out);
  BOOST_REQUIRE_EQUAL(pj.size(), 2u);
  for (const auto& r : pj) {
    const double w = r["width"].get<double>(), h = r["height"].get<double>();
    BOOST_REQUIRE_EQUAL(r["stages"].size(), 2u);
    for (const auto& s : r["stages"]) {
      BOOST_REQUIRE_EQUAL(s["joints"].size(), 14u);
      for (const auto& j : s["joints"]) {
        // Inside the image or near it (a joint may lie just outside).
        BOOST_TEST(j["x"].get<double>() > -0.25 * w);
        BOOST_TEST(j["x"].get<double>() < 1.25 * w);
        BOOST_TEST(j["y"].get<double>() > -0.25 * h);
        BOOST_TEST(j["y"].get<double>() < 1.25 * h);
      }
    }
    BOOST_TEST(r["stages"][0]["joints"][13]["name"].get<std::string>() == "head_top");
    BOOST_TEST(fs::exists(r["annotated"].get<std::string>()));
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(training_is_identical_for_any_thread_count) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("deeppose_threads");
  for (const char* th : {"1", "2"}) {
    Run t = dp(std::string("train --quiet --epochs 1 --cascade-epochs 1 --stages 2 --input 32 "
                           "--limit 48 --batch 16 --threads ") + th + " --data " + data +
                   " --model " + dir + "/t" + th + ".safetensors",
               dir);
    BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  }
  const bool same = read_file_text(dir + "/t1.safetensors") == read_file_text(dir + "/t2.safetensors");
  BOOST_TEST(same, "the model files differ between 1 and 2 threads");
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("deeppose_bad");
  detlab_test::check_exit_1_naming(
      dp("eval --data " + data + " --model " + dir + "/missing.safetensors", dir),
      "missing.safetensors");

  // Models of other programs: classify and classify_localize checkpoints.
  Rng rng(1);
  models::SmallCnn cls(models::SmallCnnConfig{}, rng);
  nn::save_checkpoint(dir + "/classify.safetensors", cls,
                      {{"config", models::SmallCnnConfig{}.to_json()}});
  models::Localizer loc(models::LocalizerConfig{}, rng);
  nn::save_checkpoint(dir + "/loc.safetensors", loc, {{"config", models::LocalizerConfig{}.to_json()}});
  for (const char* f : {"classify.safetensors", "loc.safetensors"})
    detlab_test::check_exit_1_naming(dp("eval --data " + data + " --model " + dir + "/" + f, dir),
                                     f, "not a deeppose model");

  // An "image" that is not one.
  Run t = dp("train --quiet --epochs 1 --stages 1 --input 32 --limit 16 --data " + data +
                 " --model " + dir + "/m.safetensors",
             dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  write_file_atomic(dir + "/notes.png", std::string("this is text, not a PNG"));
  detlab_test::check_exit_1_naming(
      dp("predict --model " + dir + "/m.safetensors " + dir + "/notes.png", dir), "notes.png");
  // Drawing a stage the model does not have.
  detlab_test::check_exit_1_naming(dp("predict --stage 2 --out " + dir + " --model " + dir +
                                          "/m.safetensors " + DETLAB_SOURCE_DIR +
                                          "/data/samples/skimage/chelsea.png",
                                      dir),
                                   "m.safetensors", "1 stage");

  // A missing dataset says how to make it; bad flags are usage errors (exit 2).
  detlab_test::check_exit_1_naming(
      dp("train --quiet --data " + dir + "/nowhere --model " + dir + "/x.safetensors", dir),
      "nowhere", "datagen figures");
  detlab_test::check_usage_errors(
      dp, dir,
      {"train --stages 0", "train --sigma wide", "train --input 36", "train --cascade-input 36",
       "train --cascade-channels 8 16 8 --cascade-input 36", "train --cascade-hidden 0",
       "train --cascade-channels", "train --neighbours 0.7", "train --neighbours -0.1", "predict",
       "fly"});
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
