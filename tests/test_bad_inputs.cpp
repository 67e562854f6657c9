// The bad-input table: every program in bin/ that reads files, given each kind of bad
// file it reads -- missing, empty, a truncated PNG, a JPEG declaring 60000 x 60000 pixels,
// another program's model, a safetensors file with a corrupt header, a COCO file with a
// number JSON cannot hold, an output path under a regular file -- and bad flags. Each
// row says what must happen: exit 1 with one stderr line naming the file and the problem
// (exit 2 for a usage error), never a signal or a raw library message. A new program or
// reader adds its rows here.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/fashion_mnist.h"
#include "image/image.h"
#include "models/classifier.h"
#include "models/crop_classifier.h"
#include "models/deeppose.h"
#include "models/fast_rcnn.h"
#include "models/faster_rcnn.h"
#include "models/keypoint_rcnn.h"
#include "models/mask_rcnn.h"
#include "models/localizer.h"
#include "models/rcnn.h"
#include "models/spp_net.h"
#include "models/fcn.h"
#include "models/yolo.h"
#include "models/ssd.h"
#include "nn/checkpoint.h"
#include "run_program.h"
#include "tensor/rng.h"
#include "util/files.h"

using namespace detlab_test;
using json = nlohmann::json;

namespace {

struct Case {
  std::string program, args;  // "{d}" in args stands for the test's directory
  int exit_code;              // 1: run-time error, 2: usage error
  std::string file;           // exit 1: the line names this file
  std::string says;           // ... and says this
};

std::string expand(std::string s, const std::string& dir) {
  for (size_t at; (at = s.find("{d}")) != std::string::npos;) s.replace(at, 3, dir);
  return s;
}

std::vector<std::string> names(int n, const std::string& stem) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(stem + std::to_string(i));
  return v;
}

// A model file as `program train` writes it (config, names, fresh weights): enough for
// predict to reach the image it is given.
template <class Model, class Config>
void save_model(const std::string& path, const Config& cfg, const std::string& names_key,
                const std::vector<std::string>& list) {
  dl::Rng rng(1);
  Model m(cfg, rng);
  dl::nn::save_checkpoint(path, m, {{"config", cfg.to_json()}, {names_key, json(list).dump()}});
}

// DIR/NAME.safetensors for every program that reads a model, and the bad files.
void write_inputs(const std::string& d) {
  namespace m = dl::models;
  save_model<m::SmallCnn>(d + "/classify.safetensors", m::SmallCnnConfig{}, "classes",
                          dl::fashion_mnist_classes());
  // A classify model whose class list is short: the names it would print are missing.
  save_model<m::SmallCnn>(d + "/short_classes.safetensors", m::SmallCnnConfig{}, "classes",
                          names(3, "c"));
  const m::LocalizerConfig lc;
  save_model<m::Localizer>(d + "/classify_localize.safetensors", lc, "classes",
                           names(lc.num_classes, "c"));
  const m::DeepPoseConfig dc = m::deeppose_config(1, 2.0f, m::stage1_config(),
                                                  m::refinement_config(2));
  save_model<m::DeepPoseCascade>(d + "/deeppose.safetensors", dc, "joints",
                                 names(dc.stages[0].num_joints, "j"));
  const m::CropClassifierConfig cc;
  save_model<m::CropClassifier>(d + "/sliding_window.safetensors", cc, "classes",
                                names(cc.classes(), "c"));
  const m::RcnnConfig rc;
  save_model<m::RcnnModel>(d + "/rcnn.safetensors", rc, "classes", names(rc.classes(), "c"));
  const m::SppNetConfig sc;
  save_model<m::SppNet>(d + "/spp_net.safetensors", sc, "classes", names(sc.classes(), "c"));
  const m::FastRcnnConfig fc;
  save_model<m::FastRcnn>(d + "/fast_rcnn.safetensors", fc, "classes", names(fc.classes(), "c"));
  const m::FasterRcnnConfig frc;
  save_model<m::FasterRcnn>(d + "/faster_rcnn.safetensors", frc, "classes",
                            names(frc.classes(), "c"));
  const m::MaskRcnnConfig mrc;
  save_model<m::MaskRcnn>(d + "/mask_rcnn.safetensors", mrc, "classes", names(mrc.classes(), "c"));
  const m::KeypointRcnnConfig krc;
  save_model<m::KeypointRcnn>(d + "/keypoint_rcnn.safetensors", krc, "classes", names(krc.classes(), "c"));
  const m::YoloConfig yc;
  save_model<m::Yolo>(d + "/yolo.safetensors", yc, "classes", names(yc.classes(), "c"));
  const m::SsdConfig ssd;
  save_model<m::Ssd>(d + "/ssd.safetensors", ssd, "classes", names(ssd.classes(), "c"));
  const m::FcnConfig fcn;
  save_model<m::Fcn>(d + "/fcn.safetensors", fcn, "classes", names(fcn.classes(), "c"));

  dl::write_file_atomic(d + "/empty.safetensors", std::string());
  dl::write_file_atomic(d + "/empty.png", std::string());
  // A header length of 10, then 10 bytes that are not JSON.
  dl::write_file_atomic(d + "/corrupt.safetensors", std::string("\x0a\0\0\0\0\0\0\0{not json}", 18));
  dl::save_image(d + "/ok.png", dl::Image(32, 24, 3, 90));
  dl::save_image(d + "/tiny.png", dl::Image(2, 3, 3, 90));
  const std::string png = dl::read_file_text(d + "/ok.png");
  dl::write_file_atomic(d + "/truncated.png", png.substr(0, png.size() / 2));
  // A real JPEG whose frame header (SOF0: FF C0, length, precision, height, width)
  // declares 60000 x 60000 pixels: refused from the header, before any decoding.
  dl::save_image(d + "/small.jpg", dl::Image(16, 16, 3, 120));
  std::string jpg = dl::read_file_text(d + "/small.jpg");
  const size_t sof = jpg.find("\xff\xc0");
  BOOST_REQUIRE(sof != std::string::npos);
  for (int side : {60000, 10000}) {
    for (size_t at : {sof + 5, sof + 7}) {
      jpg[at] = static_cast<char>(side >> 8);
      jpg[at + 1] = static_cast<char>(side & 0xff);
    }
    dl::write_file_atomic(d + (side == 60000 ? "/huge.jpg" : "/photo10k.jpg"), jpg);
  }
  dl::write_file_atomic(d + "/afile", std::string("a regular file, not a directory"));
  // A scenes directory whose annotations hold a number beyond double's range.
  dl::write_file_atomic(d + "/overflow/test/annotations.json",
                        std::string(R"({"images": [{"id": 1, "file_name": "a.png", "width": 1e999,)"
                                    R"( "height": 8}], "annotations": [], "categories": []})"));
  // Fashion-MNIST idx files (gzread also reads them uncompressed): an empty one, and one
  // whose header promises 5 images of 28 x 28 that are not there.
  dl::write_file_atomic(d + "/idx_empty/t10k-images-idx3-ubyte.gz", std::string());
  dl::write_file_atomic(d + "/idx_short/t10k-images-idx3-ubyte.gz",
                        std::string("\0\0\x08\x03\0\0\0\x05\0\0\0\x1c\0\0\0\x1c", 16) +
                            std::string(100, '\x7f'));
  // ... and one whose header promises 2^32 - 1 images (the reader stops at 1,000,000).
  dl::write_file_atomic(d + "/idx_huge/t10k-images-idx3-ubyte.gz",
                        std::string("\0\0\x08\x03\xff\xff\xff\xff\0\0\0\x1c\0\0\0\x1c", 16));
  std::filesystem::create_directories(d + "/golden/lesson");
  dl::write_file_atomic(d + "/golden/lesson/case.json", std::string("{\"inputs\": [1, 2"));
}

// Rows every program with a model file shares: the model file itself (eval), and the
// image given to predict (with a valid model of this program).
void add_model_rows(std::vector<Case>& t, const std::string& p, const std::string& other) {
  const std::string model = " --model {d}/" + p + ".safetensors";
  t.push_back({p, "eval --model {d}/missing.safetensors", 1, "missing.safetensors", "no such"});
  t.push_back({p, "eval --model {d}/empty.safetensors", 1, "empty.safetensors", "8-byte"});
  t.push_back({p, "eval --model {d}/corrupt.safetensors", 1, "corrupt.safetensors", "header"});
  t.push_back({p, "eval --model {d}/" + other + ".safetensors", 1, other + ".safetensors", "not a"});
  t.push_back({p, "predict" + model + " {d}/missing.png", 1, "missing.png", ""});
  t.push_back({p, "predict" + model + " {d}/empty.png", 1, "empty.png", "empty"});
  t.push_back({p, "predict" + model + " {d}/truncated.png", 1, "truncated.png", ""});
  t.push_back({p, "predict" + model + " {d}/huge.jpg", 1, "huge.jpg", "60000x60000"});
  // 100 megapixels: over load_image's limit (8192 x 8192), refused before decoding.
  t.push_back({p, "predict" + model + " {d}/photo10k.jpg", 1, "photo10k.jpg", "over the limit"});
  t.push_back({p, "predict" + model + " --out {d}/afile/out {d}/ok.png", 1, "afile", ""});
  // A 2 x 3 picture: most programs take it; a backbone that pools twice (spp_net,
  // fast_rcnn, faster_rcnn) has no feature map for it and says so.
  const bool pools_whole_image =
      p == "spp_net" || p == "fast_rcnn" || p == "faster_rcnn" || p == "ssd" || p == "mask_rcnn";
  t.push_back({p, "predict" + model + " --out {d}/pred {d}/tiny.png", pools_whole_image ? 1 : 0,
               "tiny.png", "2x3 image too small"});
  t.push_back({p, "predict" + model + " --threads -1 {d}/ok.png", 2, "", ""});
  t.push_back({p, "predict --no-such-flag {d}/ok.png", 2, "", ""});
}

std::vector<Case> table() {
  std::vector<Case> t;
  add_model_rows(t, "classify", "classify_localize");
  t.push_back({"classify", "predict --model {d}/short_classes.safetensors {d}/ok.png", 1,
               "short_classes.safetensors", "classes"});
  t.push_back({"classify", "eval --model {d}/classify.safetensors --data {d}/nowhere", 1,
               "nowhere", ""});
  t.push_back({"classify", "eval --model {d}/classify.safetensors --data {d}/idx_empty", 1,
               "t10k-images-idx3-ubyte.gz", ""});
  t.push_back({"classify", "eval --model {d}/classify.safetensors --data {d}/idx_short", 1,
               "t10k-images-idx3-ubyte.gz", ""});
  t.push_back({"classify", "eval --model {d}/classify.safetensors --data {d}/idx_huge", 1,
               "t10k-images-idx3-ubyte.gz", "implausible image count 4294967295"});
  for (const char* p : {"classify_localize", "deeppose", "sliding_window", "rcnn", "spp_net",
                        "fast_rcnn", "faster_rcnn"}) {
    add_model_rows(t, p, "classify");
    t.push_back({p, "eval --model {d}/" + std::string(p) + ".safetensors --data {d}/overflow", 1,
                 "annotations.json", "number"});
    t.push_back({p, "eval --model {d}/" + std::string(p) + ".safetensors --data {d}/nowhere", 1,
                 "nowhere", ""});
  }
  // yolo resizes every image to its input size: the 2 x 3 picture is fine.
  add_model_rows(t, "yolo", "faster_rcnn");
  t.push_back({"yolo", "eval --model {d}/yolo.safetensors --data {d}/overflow", 1,
               "annotations.json", "number"});
  t.push_back({"yolo", "eval --model {d}/yolo.safetensors --data {d}/nowhere", 1, "nowhere", ""});
  t.push_back({"yolo", "train --scratch --data {d}/nowhere --model {d}/y.safetensors", 1, "nowhere", ""});
  t.push_back({"yolo", "train --head mlp", 2, "", ""});
  // ssd (lesson 06): the same rows as the detectors above, and another detector's model.
  add_model_rows(t, "ssd", "faster_rcnn");
  t.push_back({"ssd", "eval --model {d}/ssd.safetensors --data {d}/overflow", 1, "annotations.json", "number"});
  t.push_back({"ssd", "eval --model {d}/ssd.safetensors --data {d}/nowhere", 1, "nowhere", ""});
  t.push_back({"ssd", "train --quiet --scratch --s-min 0.5 --s-max 0.1 --data {d}/nowhere", 1, "--s-min", ""});
  t.push_back({"ssd", "train --aspect-ratios 0.5", 2, "", ""});
  // mask_rcnn (lesson 07): the detectors' rows; --init must be a faster_rcnn model.
  add_model_rows(t, "mask_rcnn", "faster_rcnn");
  t.push_back({"mask_rcnn", "eval --model {d}/mask_rcnn.safetensors --data {d}/overflow", 1, "annotations.json", "number"});
  t.push_back({"mask_rcnn", "eval --model {d}/mask_rcnn.safetensors --data {d}/nowhere", 1, "nowhere", ""});
  t.push_back({"mask_rcnn", "train --data {d}/nowhere --model {d}/x.safetensors", 1, "nowhere", ""});
  t.push_back({"mask_rcnn", "train --mask-pool 0", 2, "", ""});
  // mask_rcnn --keypoints (lesson 07, §5): its own model kind, the pose figures' folders.
  const std::string kp = " --keypoints --model {d}/keypoint_rcnn.safetensors";
  t.push_back({"mask_rcnn", "eval --keypoints --model {d}/missing.safetensors", 1, "missing.safetensors", "no such"});
  t.push_back({"mask_rcnn", "eval --keypoints --model {d}/corrupt.safetensors", 1, "corrupt.safetensors", "header"});
  t.push_back({"mask_rcnn", "eval --keypoints --model {d}/mask_rcnn.safetensors", 1, "mask_rcnn.safetensors", "not a"});
  t.push_back({"mask_rcnn", "predict --keypoints --model {d}/mask_rcnn.safetensors {d}/ok.png", 1, "mask_rcnn.safetensors", "not a"});
  t.push_back({"mask_rcnn", "eval" + kp + " --data {d}/nowhere", 1, "nowhere", ""});
  t.push_back({"mask_rcnn", "predict" + kp + " {d}/missing.png", 1, "missing.png", ""});
  t.push_back({"mask_rcnn", "predict" + kp + " {d}/truncated.png", 1, "truncated.png", ""});
  t.push_back({"mask_rcnn", "predict" + kp + " --out {d}/pred {d}/tiny.png", 1, "tiny.png", "2x3 image too small"});
  t.push_back({"mask_rcnn", "train --keypoints --scratch --no-init --data {d}/nowhere --model {d}/x.safetensors", 1, "nowhere", ""});
  t.push_back({"mask_rcnn", "train --keypoints --keypoint-convs 17", 2, "", ""});
  // The mask branch's flags are refused with --keypoints, not silently ignored.
  t.push_back({"mask_rcnn", "train --keypoints --mask-convs 2 --model {d}/x.safetensors", 1, "--mask-convs", "not --keypoints"});
  t.push_back({"mask_rcnn", "predict --keypoints --show-sampling {d}/ok.png", 1, "--show-sampling", "not --keypoints"});
  // fcn (lesson 07) resizes every image to its input size too: the 2 x 3 picture is fine.
  add_model_rows(t, "fcn", "yolo");
  t.push_back({"fcn", "eval --model {d}/fcn.safetensors --data {d}/overflow", 1, "annotations.json", "number"});
  t.push_back({"fcn", "eval --model {d}/fcn.safetensors --data {d}/nowhere", 1, "nowhere", ""});
  t.push_back({"fcn", "train --scratch --data {d}/nowhere --model {d}/f.safetensors", 1, "nowhere", ""});
  t.push_back({"fcn", "train --upsample cubic", 2, "", ""});
  const std::string ss = "selective_search";
  t.push_back({ss, "predict {d}/missing.png", 1, "missing.png", ""});
  t.push_back({ss, "predict {d}/empty.png", 1, "empty.png", "empty"});
  t.push_back({ss, "predict {d}/truncated.png", 1, "truncated.png", ""});
  t.push_back({ss, "predict {d}/huge.jpg", 1, "huge.jpg", "60000x60000"});
  t.push_back({ss, "predict {d}/photo10k.jpg", 1, "photo10k.jpg", "10000x10000"});
  t.push_back({ss, "predict --out {d}/afile/out {d}/ok.png", 1, "afile", ""});
  t.push_back({ss, "eval --data {d}/overflow/test", 1, "annotations.json", "number"});
  t.push_back({ss, "predict --preset nope {d}/ok.png", 2, "", ""});
  t.push_back({"datagen", "show {d}/overflow/test/annotations.json --images {d} --out {d}/show", 1,
               "annotations.json", "number"});
  t.push_back({"datagen", "show {d}/missing.json --images {d} --out {d}/show", 1, "missing.json",
               ""});
  t.push_back({"datagen", "scenes --count 1 --data {d}/nowhere --out {d}/scenes", 1, "nowhere", ""});
  t.push_back({"datagen", "scenes --count 1 --split test --data {d}/idx_short --out {d}/scenes", 1,
               "t10k-images-idx3-ubyte.gz", ""});
  t.push_back({"datagen", "scenes --count 1 --out {d}/afile/scenes", 1, "afile", ""});
  t.push_back({"datagen", "scenes --count -1 --out {d}/scenes", 2, "", ""});
  t.push_back({"grade", "--golden {d}/golden --quiet", 1, "case.json", ""});
  t.push_back({"grade", "--golden {d}/nowhere --quiet", 1, "nowhere", ""});
  t.push_back({"compare", "--methods rcnn --models {d}/afile", 1, "afile", ""});
  // faces reads face-api's imported networks (make pretrained), import_tfjs their manifests.
  t.push_back({"faces", "predict --model {d}/missing.safetensors {d}/ok.png", 1, "missing.safetensors", "make pretrained"});
  t.push_back({"faces", "predict --model {d}/corrupt.safetensors {d}/ok.png", 1, "corrupt.safetensors", ""});
  t.push_back({"faces", "predict --detector ssd --model {d}/empty.safetensors {d}/ok.png", 1, "empty.safetensors", ""});
  t.push_back({"faces", "predict --model {d}/yolo.safetensors {d}/ok.png", 1, "yolo.safetensors", ""});
  t.push_back({"faces", "predict --detector ssd --model {d}/yolo.safetensors {d}/ok.png", 1, "yolo.safetensors", "ssd_mobilenetv1"});
  t.push_back({"faces", "bench --model {d}/missing.safetensors {d}/ok.png", 1, "missing.safetensors", ""});
  t.push_back({"faces", "predict --input-size 100 {d}/ok.png", 2, "", ""});
  t.push_back({"faces", "predict --requantize 9 {d}/ok.png", 2, "", ""});
  t.push_back({"import_tfjs", "{d}/missing.json --out {d}/x.safetensors", 1, "missing.json", ""});
  t.push_back({"import_tfjs", "{d}/corrupt.safetensors --out {d}/x.safetensors", 1, "corrupt.safetensors", "not a JSON"});
  t.push_back({"import_tfjs", "{d}/golden/lesson/case.json --out {d}/x.safetensors", 1, "case.json", "not a JSON"});
  t.push_back({"import_tfjs", "{d}/afile", 2, "", ""});
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_program_refuses_bad_files_with_one_line) {
  const std::string d = temp_dir("bad_inputs");
  write_inputs(d);
  for (const Case& c : table()) {
    const std::string args = expand(c.args, d);
    BOOST_TEST_CONTEXT("bin/" << c.program << " " << args) {
      const Run r = run_program(c.program, args, d);
      BOOST_TEST(r.status == c.exit_code, "exit " << r.status << ": " << r.err);
      if (c.exit_code != 1) continue;
      BOOST_TEST(count_lines(r.err) == 1, r.err);
      BOOST_TEST(r.err.find(c.file) != std::string::npos, r.err);
      BOOST_TEST(r.err.find(c.says) != std::string::npos, r.err);
      // The C++ library's own wording never reaches the user raw.
      BOOST_TEST(r.err.find("filesystem error") == std::string::npos, r.err);
    }
  }
  std::filesystem::remove_all(d);
}

// A photo larger than the working size of the programs that work at the image's own
// resolution (lessons/common/photo.h: 1024 px a side) is reduced first, with a note;
// the JSON gives both sizes and the boxes lie in the reduced picture.
BOOST_AUTO_TEST_CASE(large_photos_are_reduced_to_the_working_size) {
  const std::string d = temp_dir("large_photo");
  dl::Image img(1500, 900, 3, 200);
  for (int y = 300; y < 600; ++y)
    for (int x = 500; x < 1000; ++x) img.at(x, y, 0) = 20;  // one dark-red block
  dl::save_image(d + "/big.png", img);
  const Run r = run_program("selective_search",
                            "predict --json --preset single --out " + d + "/pred " + d + "/big.png",
                            d);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  BOOST_TEST(r.err.find("1500x900, reduced to 1024x614") != std::string::npos, r.err);
  const json j = json::parse(r.out).at(0);
  BOOST_TEST(j.at("width").get<int>() == 1024);
  BOOST_TEST(j.at("height").get<int>() == 614);
  BOOST_TEST(j.at("resized_from") == json({1500, 900}));
  for (const json& b : j.at("boxes")) {
    const auto xyxy = b.at("box_xyxy").get<std::vector<float>>();
    BOOST_TEST((xyxy[0] >= 0 && xyxy[1] >= 0 && xyxy[2] <= 1024 && xyxy[3] <= 614));
  }
  std::filesystem::remove_all(d);
}
