// The imported face detector (models/tiny_face_detector.h, bin/faces): TensorFlow's
// "same" padding, the decoding of a hand-made output, and agreement with face-api's own
// JavaScript on the sample photos (tests/golden/faces/, tools/golden/faceapi/): raw
// outputs within 1e-4 relative, boxes within 0.5 px, the same faces after NMS. The
// comparison needs face-api's weights (`make pretrained`); without them it is skipped
// with a message, never failed.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "image/image.h"
#include "models/face_landmark_68.h"
#include "models/ssd_mobilenet_face.h"
#include "models/tiny_face_detector.h"
#include "nn/tf_padding.h"
#include "nn/tfjs_weights.h"
#include "program_checks.h"
#include "run_program.h"
#include "util/files.h"

using namespace dl;
using namespace detlab_test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kFaceApi = "data/pretrained/face-api";
const std::string kTinyManifest = kFaceApi + "/tiny_face_detector_model-weights_manifest.json";
const std::string kSsdManifest = kFaceApi + "/ssd_mobilenetv1_model-weights_manifest.json";
const std::string kLandmarkManifest = kFaceApi + "/face_landmark_68_model-weights_manifest.json";

// The sample photos the golden dumps were made from, by stem.
std::string sample_path(const std::string& stem) {
  for (const char* p : {"data/samples/skimage/", "data/samples/darknet/",
                        "data/samples/labelme/JPEGImages/", "data/samples/matplotlib/"})
    for (const char* ext : {".png", ".jpg"})
      if (fs::exists(p + stem + ext)) return p + stem + ext;
  return "";
}

// face-api's weights straight from the manifest (what bin/import_tfjs writes).
template <class Net>
std::unique_ptr<Net> from_manifest(const std::string& manifest) {
  auto net = std::make_unique<Net>();
  const std::vector<TfjsWeight> weights = load_tfjs_weights(manifest);
  for (auto& [name, var] : net->named_parameters()) {
    bool found = false;
    for (const TfjsWeight& w : weights)
      if (detlab_weight_name(w.name) == name) {
        const Tensor t = to_detlab_layout(w);
        BOOST_REQUIRE(t.shape() == var.value().shape());
        std::copy(t.begin(), t.end(), var.value().begin());
        found = true;
      }
    BOOST_REQUIRE_MESSAGE(found, name);
  }
  net->eval();
  return net;
}

// The faces after NMS: as many as the reference kept, corners within 0.5 px, scores
// within 1e-4.
void check_same_faces(const std::vector<Detection>& dets, const json& expected) {
  BOOST_REQUIRE_EQUAL(dets.size(), expected.size());
  for (size_t k = 0; k < dets.size(); ++k) {
    const json& d = expected[k];
    BOOST_TEST(std::fabs(dets[k].box.x1 - d["x1"].get<double>()) <= 0.5);
    BOOST_TEST(std::fabs(dets[k].box.y1 - d["y1"].get<double>()) <= 0.5);
    BOOST_TEST(std::fabs(dets[k].box.x2 - d["x2"].get<double>()) <= 0.5);
    BOOST_TEST(std::fabs(dets[k].box.y2 - d["y2"].get<double>()) <= 0.5);
    BOOST_TEST(std::fabs(dets[k].score - d["score"].get<double>()) <= 1e-4);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(tf_same_padding_is_asymmetric_for_odd_totals) {
  // out = ceil(in / s), total = (out - 1) s + k - in, smaller half before.
  auto p = nn::tf_same_padding(207, 2, 2);  // 104 out: total 1 -> (0, 1)
  BOOST_TEST(p.before == 0);
  BOOST_TEST(p.after == 1);
  p = nn::tf_same_padding(13, 2, 1);  // 13 out: total 1 -> (0, 1)
  BOOST_TEST((p.before == 0 && p.after == 1));
  p = nn::tf_same_padding(414, 2, 2);  // even: no padding
  BOOST_TEST((p.before == 0 && p.after == 0));
  p = nn::tf_same_padding(10, 4, 1);  // total 3 -> (1, 2)
  BOOST_TEST((p.before == 1 && p.after == 2));
  // A padded cell never wins the max: [[-3, -1, -2]] -> windows {-3, -1}, {-2, pad}.
  Var x(Tensor({1, 1, 1, 3}, {-3, -1, -2}));
  const Tensor y = nn::max_pool2d_same(x, 2, 2).value();
  BOOST_TEST(y.shape() == Shape({1, 1, 1, 2}));
  BOOST_TEST(y[0] == -1.0f);
  BOOST_TEST(y[1] == -2.0f);
  // Both ways (ceil_mode for 2x2/2, a -inf padded copy for 2x2/1) against the definition.
  Rng rng(3);
  for (int64_t n : {5, 6, 7, 13}) {
    for (int s : {1, 2}) {
      const Tensor v = uniform({1, 2, n, n + 1}, -1.0f, 1.0f, rng);
      const Tensor m = nn::max_pool2d_same(Var(v), 2, s).value();
      const int64_t oh = (n + s - 1) / s, ow = (n + 1 + s - 1) / s;
      BOOST_REQUIRE(m.shape() == Shape({1, 2, oh, ow}));
      const auto pt = nn::tf_same_padding(n, 2, s);
      for (int64_t c = 0; c < 2; ++c)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            float best = -1e30f;
            for (int64_t a = 0; a < 2; ++a)
              for (int64_t b = 0; b < 2; ++b) {
                const int64_t yy = i * s - pt.before + a, xx = j * s + b;
                if (yy >= 0 && yy < n && xx < n + 1) best = std::max(best, v.at({0, c, yy, xx}));
              }
            BOOST_TEST(m.at({0, c, i, j}) == best);
          }
    }
  }
}

BOOST_AUTO_TEST_CASE(decoding_a_hand_made_output) {
  // One confident anchor: cell (row 2, col 3) of a 13 x 13 grid, anchor 1 (6.041143 x
  // 7.080126 cells), tx = ty = tw = th = 0: centre ((3 + 0.5) / 13, (2 + 0.5) / 13) of a
  // 416 x 416 image, size = the anchor's.
  Tensor out({1, 25, 13, 13}, -20.0f);
  for (int v = 0; v < 4; ++v) out.at({0, 5 + v, 2, 3}) = 0.0f;
  out.at({0, 9, 2, 3}) = 2.0f;  // sigmoid(2) = 0.8808
  const auto c = models::decode_tiny_face(out, 416, 416, 416, 0.5f);
  BOOST_REQUIRE_EQUAL(c.size(), 1u);
  BOOST_TEST(c[0].anchor == 1);
  BOOST_TEST(c[0].score == 1.0 / (1.0 + std::exp(-2.0)), boost::test_tools::tolerance(1e-6));
  const double w = 6.041143 * 32, h = 7.080126 * 32;
  BOOST_TEST(c[0].box.x1 == 3.5 * 32 - w / 2, boost::test_tools::tolerance(1e-4));
  BOOST_TEST(c[0].box.y2 == 2.5 * 32 + h / 2, boost::test_tools::tolerance(1e-4));
  // A 832 x 416 photo is padded to 832 x 832: the same cell maps to twice the pixels in x
  // and y, but boxes stay relative to the photo, not to the padding.
  const auto wide = models::decode_tiny_face(out, 832, 416, 416, 0.5f);
  BOOST_TEST(wide[0].box.x1 == 2 * c[0].box.x1, boost::test_tools::tolerance(1e-4));
  BOOST_TEST(wide[0].box.y1 == 2 * c[0].box.y1, boost::test_tools::tolerance(1e-4));
}

BOOST_AUTO_TEST_CASE(matches_face_api_javascript_on_the_sample_photos) {
  if (!fs::exists(kTinyManifest)) {
    BOOST_TEST_MESSAGE("skipped: " << kTinyManifest << " is absent (make pretrained fetches it)");
    return;
  }
  auto net = from_manifest<models::TinyFaceDetector>(kTinyManifest);
  int files = 0;
  for (const auto& e : fs::directory_iterator("tests/golden/faces")) {
    const std::string f = e.path().string();
    if (f.find(".tiny_face_detector.json") == std::string::npos) continue;
    const json g = json::parse(read_file_text(f));
    const std::string path = sample_path(g["image"]);
    BOOST_TEST_CONTEXT(f) {
      BOOST_REQUIRE_MESSAGE(!path.empty(), "sample photo of " << f);
      ++files;
      const Image img = load_image(path, 3);
      const int size = g["input_size"];
      const Tensor out = net->forward(Var(models::tiny_face_input(img, size))).value();
      // Raw output: tfjs's NHWC vs detlab's NCHW, within 1e-4 of the tensor's range.
      const auto raw = g["raw"].get<std::vector<float>>();
      const int64_t cells = out.size(2), ch = out.size(1);
      BOOST_REQUIRE_EQUAL(raw.size(), static_cast<size_t>(out.numel()));
      float range = 0, worst = 0;
      for (float v : raw) range = std::max(range, std::fabs(v));
      for (int64_t p = 0; p < cells * cells; ++p)
        for (int64_t c = 0; c < ch; ++c)
          worst = std::max(worst, std::fabs(out[c * cells * cells + p] - raw[p * ch + c]));
      BOOST_TEST(worst <= 1e-4f * range, "largest difference " << worst << " of range " << range);
      BOOST_TEST_MESSAGE(g["image"].get<std::string>() << ": raw largest difference " << worst
                                                      << " (range " << range << "), "
                                                      << g["detections"].size() << " faces");
      // Boxes after NMS: the same faces, corners within 0.5 px, same scores.
      models::TinyFaceDetectorOptions o;
      o.input_size = size;
      o.score_threshold = g["score_threshold"];
      const auto dets = net->detect(img, o);
      check_same_faces(dets, g["detections"]);
    }
  }
  BOOST_TEST(files >= 5);
}

BOOST_AUTO_TEST_CASE(ssd_matches_face_api_javascript_on_the_sample_photos) {
  if (!fs::exists(kSsdManifest)) {
    BOOST_TEST_MESSAGE("skipped: " << kSsdManifest << " is absent (make pretrained fetches it)");
    return;
  }
  auto net = from_manifest<models::SsdMobilenetFace>(kSsdManifest);
  int files = 0;
  for (const auto& e : fs::directory_iterator("tests/golden/faces")) {
    const std::string f = e.path().string();
    if (f.find(".ssd_mobilenetv1.json") == std::string::npos) continue;
    const json g = json::parse(read_file_text(f));
    const std::string path = sample_path(g["image"]);
    BOOST_TEST_CONTEXT(f) {
      BOOST_REQUIRE_MESSAGE(!path.empty(), "sample photo of " << f);
      ++files;
      const Image img = load_image(path, 3);
      const models::SsdFaceOutput out = net->predict(img);
      // The 200 best default boxes: scores and decoded corners within 1e-4 (both are
      // in [0, 1]-ish units: scores are probabilities, corners fractions of the square).
      float worst_score = 0, worst_box = 0;
      for (const json& b : g["best"]) {
        const int k = b["index"];
        worst_score = std::max(worst_score, std::fabs(out.scores[k] - b["score"].get<float>()));
        for (int c = 0; c < 4; ++c)
          worst_box = std::max(worst_box, std::fabs(out.boxes[4 * k + c] - b["box"][c].get<float>()));
      }
      const auto every = g["every_10th_score"].get<std::vector<float>>();
      for (size_t i = 0; i < every.size(); ++i)
        worst_score = std::max(worst_score, std::fabs(out.scores[10 * i] - every[i]));
      BOOST_TEST(worst_score <= 1e-4f);
      BOOST_TEST(worst_box <= 1e-4f);
      BOOST_TEST_MESSAGE(g["image"].get<std::string>() << ": ssd largest score difference "
                                                      << worst_score << ", box " << worst_box);
      models::SsdFaceOptions o;
      o.score_threshold = g["score_threshold"];
      const auto dets = models::ssd_face_detections(out, img.width, img.height, o);
      check_same_faces(dets, g["detections"]);
    }
  }
  BOOST_TEST(files >= 5);
}

BOOST_AUTO_TEST_CASE(landmarks_match_face_api_javascript_on_the_detected_faces) {
  if (!fs::exists(kLandmarkManifest)) {
    BOOST_TEST_MESSAGE("skipped: " << kLandmarkManifest << " is absent (make pretrained fetches it)");
    return;
  }
  auto net = from_manifest<models::FaceLandmark68>(kLandmarkManifest);
  int faces = 0;
  for (const auto& e : fs::directory_iterator("tests/golden/faces")) {
    const std::string f = e.path().string();
    if (f.find(".face_landmark_68.json") == std::string::npos) continue;
    const json g = json::parse(read_file_text(f));
    const Image img = load_image(sample_path(g["image"]), 3);
    for (const json& face : g["faces"]) {
      BOOST_TEST_CONTEXT(f << " " << face["detector"] << " face " << face["crop"].dump()) {
        ++faces;
        const json& b = face["box"];
        const Box box{b["x1"].get<float>(), b["y1"].get<float>(), b["x2"].get<float>(), b["y2"].get<float>()};
        const auto crop = models::face_crop_rect(box, img.width, img.height);
        for (int c = 0; c < 4; ++c) BOOST_TEST(crop[c] == face["crop"][c].get<int>());
        Tensor raw;
        const std::vector<float> pts = net->landmarks(img, box, &raw);
        const auto want = face["raw"].get<std::vector<float>>();
        BOOST_REQUIRE_EQUAL(raw.numel(), static_cast<int64_t>(want.size()));
        float worst = 0, worst_px = 0;
        for (size_t k = 0; k < want.size(); ++k) worst = std::max(worst, std::fabs(raw[k] - want[k]));
        BOOST_TEST(worst <= 1e-4f);  // the outputs are fractions of the crop (0..1)
        BOOST_REQUIRE_EQUAL(pts.size(), 136u);
        for (int k = 0; k < 68; ++k)
          for (int c = 0; c < 2; ++c)
            worst_px = std::max(worst_px, std::fabs(pts[2 * k + c] - face["points"][k][c].get<float>()));
        BOOST_TEST(worst_px <= 0.5f);
        BOOST_TEST_MESSAGE(g["image"].get<std::string>() << ": landmarks raw difference " << worst
                                                        << ", points " << worst_px << " px");
      }
    }
  }
  BOOST_TEST(faces >= 5);
}

BOOST_AUTO_TEST_CASE(program_bad_inputs_and_predict) {
  const std::string dir = temp_dir("faces");
  const Program faces{"faces"};
  const std::string photo = "data/samples/skimage/astronaut.png";
  check_exit_1_naming(faces("predict --model " + dir + "/missing.safetensors " + photo, dir),
                      "missing.safetensors", "make pretrained");
  save_classify_checkpoint(dir + "/classify.safetensors");
  check_exit_1_naming(faces("predict --model " + dir + "/classify.safetensors " + photo, dir),
                      "classify.safetensors");
  check_usage_errors(faces, dir, {"", "predict", "predict --input-size 100 " + photo,
                                  "predict --threshold 2 " + photo, "train"});
  const std::string model = kFaceApi + "/tiny_face_detector_model.safetensors";
  if (!fs::exists(model)) {
    BOOST_TEST_MESSAGE("predict skipped: " << model << " is absent (make pretrained)");
  } else {
    check_exit_1_naming(faces("predict --model " + model + " " + dir + "/none.png", dir), "none.png");
    const json j = json_output(faces("predict --json --threads 1 --show-grid --out " + dir +
                                     " --model " + model + " " + photo, dir));
    BOOST_TEST(fs::exists(dir + "/astronaut.grid.png"));
    BOOST_TEST(j.dump().find("face") != std::string::npos);
    // The same faces, bit for bit, with 2 threads.
    const json j2 = json_output(faces("predict --json --threads 2 --out " + dir + " --model " + model + " " + photo, dir));
    BOOST_TEST(j2[0]["detections"].dump() == j[0]["detections"].dump());
    // Re-rounding the 8-bit weights to 8 bits changes nothing; to 4 bits it does.
    const json j8 = json_output(faces("predict --json --threads 1 --requantize 8 --out " + dir +
                                      " --model " + model + " " + photo, dir));
    const json j4 = json_output(faces("predict --json --threads 1 --requantize 4 --out " + dir +
                                      " --model " + model + " " + photo, dir));
    const auto score = [](const json& r) { return r[0]["detections"].empty() ? -1.0 : r[0]["detections"][0]["score"].get<double>(); };
    BOOST_TEST(std::fabs(score(j8) - score(j) ) < 1e-4);
    BOOST_TEST(std::fabs(score(j4) - score(j)) > 1e-3);
    check_exit_1_naming(faces("predict --requantize 6 --model " + dir + "/classify.safetensors " + photo, dir),
                        "classify.safetensors");
    if (fs::exists(kFaceApi + "/face_landmark_68_model.safetensors")) {
      BOOST_TEST(faces("predict --landmarks --threads 1 --out " + dir + " --model " + model + " " + photo, dir).status == 0);
      const json lm = json::parse(read_file_text(dir + "/astronaut.landmarks.json"));
      BOOST_REQUIRE_EQUAL(lm["faces"].size(), 1u);
      BOOST_TEST(lm["faces"][0]["points"].size() == 136u);
    }
  }
  const std::string ssd = kFaceApi + "/ssd_mobilenetv1_model.safetensors";
  check_usage_errors(faces, dir, {"predict --detector ssd --show-grid " + photo,
                                  "predict --detector yolo " + photo});
  if (fs::exists(ssd) && fs::exists(model))
    check_exit_1_naming(faces("predict --detector ssd --model " + model + " " + photo, dir),
                        "tiny_face_detector_model.safetensors", "ssd_mobilenetv1");
  fs::remove_all(dir);
}
