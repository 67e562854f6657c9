// Lesson 06, "a real one": real detectors on real photos. face-api's two face detectors,
// trained on faces, imported from their TensorFlow.js weights (`make pretrained`,
// bin/import_tfjs) and run on detlab's engine:
//   --detector tiny  Tiny-YOLOv2 with depthwise-separable convolutions: a 13 x 13 grid,
//                    5 anchor boxes per cell, sigmoid offsets and objectness, exp(t) x
//                    anchor sizes, NMS (models/tiny_face_detector.h)
//   --detector ssd   SSD on MobileNetV1: 5118 default boxes on 6 maps (32 x 32 .. 1 x 1),
//                    offsets and class scores per box, NMS (models/ssd_mobilenet_face.h)
//   bin/faces predict IMAGE... [--detector tiny|ssd] [--threshold T] [--show-grid]
//                       boxes + scores (PNG + JSON); --show-grid (tiny) draws the grid and
//                       every anchor box above the threshold
//   --landmarks      (lesson 02) the 68 face landmarks regressed on each face found by
//                    face-api's landmark net (models/face_landmark_68.h): drawn to
//                    STEM.landmarks.png, listed in STEM.landmarks.json (x, y per point)
//   bin/faces bench [IMAGE...] [--detector tiny|ssd]          seconds per image by stage
// One program rather than `bin/yolo --pretrained face`: this network is not trained
// here, has no eval split, and its input pipeline (pad to square, TF resize, mean RGB)
// and grid differ from bin/yolo's; yolo's commands would each need a second branch.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <functional>
#include <memory>

#include "image/draw.h"
#include "lessons/common/cli.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/report.h"
#include "lessons/common/stage_bench.h"
#include "models/face_landmark_68.h"
#include "models/ssd_mobilenet_face.h"
#include "models/tiny_face_detector.h"
#include "nn/checkpoint.h"
#include "nn/tfjs_weights.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using models::TinyFaceDetector;

namespace {

const char* kProgram = "faces";
const std::string kPretrained = "data/pretrained/face-api/";

struct Options {
  std::string detector = "tiny";
  models::TinyFaceDetectorOptions tiny;
  models::SsdFaceOptions ssd;
  bool show_grid = false;
  bool landmarks = false;
  int requantize = 0;  // > 0: weights re-rounded to this many bits (lesson 06)
};

// --requantize: every quantised tensor (the file's tfjs_quantization metadata) re-rounded
// onto 2^bits levels over its original range, to see what fewer bits would cost.
void requantize(nn::Module& net, const std::string& path, int bits) {
  const auto file_meta = nn::read_checkpoint_metadata(path);
  const auto it = file_meta.find("tfjs_quantization");
  if (it == file_meta.end())
    throw FileError(path, "no tfjs_quantization metadata: --requantize needs a file bin/import_tfjs wrote");
  const auto meta = nlohmann::json::parse(it->second);
  for (auto& [name, var] : net.named_parameters())
    if (meta.contains(name)) {
      const auto& q = meta[name];
      const Tensor t = requantize(var.value(), {q["dtype"], q["scale"], q["min"]}, bits);
      std::copy(t.begin(), t.end(), var.value().begin());
    }
}

std::string model_path(const cli::CommonArgs& a, const Options& o) {
  if (!a.model.empty()) return a.model;
  return kPretrained + (o.detector == "ssd" ? "ssd_mobilenetv1_model" : "tiny_face_detector_model") +
         ".safetensors";
}

void require_file(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw FileError(path, "no such file (make pretrained fetches and imports face-api's networks)");
}

// The chosen detector as one function image -> faces, with its stage times.
using FaceDetect = std::function<std::vector<Detection>(const Image&, double* seconds_by_stage)>;

// Either network's detect with its three stage times (both models time the same three).
template <class StageTimes, class Net, class DetectOptions>
FaceDetect timed(std::shared_ptr<Net> net, const DetectOptions& o) {
  return [net, o](const Image& img, double* s) {
    StageTimes st;
    auto d = net->detect(img, o, &st);
    s[0] = st.preprocess, s[1] = st.network, s[2] = st.decode;
    return d;
  };
}

FaceDetect load_detector(const cli::CommonArgs& a, const Options& o) {
  const std::string path = model_path(a, o);
  require_file(path);
  if (o.detector == "ssd") {
    auto net = std::make_shared<models::SsdMobilenetFace>();
    models::load_ssd_mobilenet_face(path, *net);
    if (o.requantize) requantize(*net, path, o.requantize);
    return timed<models::SsdFaceStageTimes>(net, o.ssd);
  }
  auto net = std::make_shared<TinyFaceDetector>();
  nn::load_checkpoint(path, *net);
  net->eval();
  if (o.requantize) requantize(*net, path, o.requantize);
  return timed<models::TinyFaceStageTimes>(net, o.tiny);
}

// The grid (13 x 13 at 416) over the padded square, and each anchor box scoring above
// the threshold in its anchor's colour with the cell it belongs to: what a one-shot
// detector predicts before NMS. At the best box's cell, dotted, the 5 anchor priors
// themselves (tw = th = 0): the shapes the predictions start from.
Image grid_picture(const Image& img, const std::vector<models::TinyFaceCandidate>& cand,
                   int cells) {
  Image pic = img;
  const float side = static_cast<float>(std::max(img.width, img.height)) / cells;
  for (int k = 1; k < cells; ++k) {
    draw_line(pic, k * side, 0, k * side, static_cast<float>(img.height - 1), Color{200, 200, 200});
    draw_line(pic, 0, k * side, static_cast<float>(img.width - 1), k * side, Color{200, 200, 200});
  }
  for (const auto& c : cand) {
    const Color col = palette_color(c.anchor);
    draw_rect(pic, c.box.x1, c.box.y1, c.box.x2, c.box.y2, col, 1);
    draw_rect(pic, c.col * side, c.row * side, (c.col + 1) * side, (c.row + 1) * side, col, 2);
  }
  if (cand.empty()) return pic;
  const auto best = *std::max_element(cand.begin(), cand.end(),
                                      [](const auto& a, const auto& b) { return a.score < b.score; });
  const float cx = (best.col + 0.5f) * side, cy = (best.row + 0.5f) * side;
  for (int a = 0; a < static_cast<int>(TinyFaceDetector::kAnchors.size()); ++a) {
    const float hw = static_cast<float>(TinyFaceDetector::kAnchors[a][0]) * side / 2;
    const float hh = static_cast<float>(TinyFaceDetector::kAnchors[a][1]) * side / 2;
    const float xs[4] = {cx - hw, cx + hw, cx + hw, cx - hw}, ys[4] = {cy - hh, cy - hh, cy + hh, cy + hh};
    for (int e = 0; e < 4; ++e)  // dotted: every other 4-pixel dash of each edge
      for (float t = 0; t < 1; t += 8.0f / (2 * std::max(hw, hh))) {
        const float x0 = xs[e] + (xs[(e + 1) % 4] - xs[e]) * t, y0 = ys[e] + (ys[(e + 1) % 4] - ys[e]) * t;
        const float t1 = std::min(1.0f, t + 4.0f / (2 * std::max(hw, hh)));
        draw_line(pic, x0, y0, xs[e] + (xs[(e + 1) % 4] - xs[e]) * t1, ys[e] + (ys[(e + 1) % 4] - ys[e]) * t1,
                  palette_color(a));
      }
  }
  return pic;
}

// The 68 points of every face, drawn and listed beside the detections.
void save_landmarks(models::FaceLandmark68& net, const Image& img, const std::vector<Detection>& dets,
                    const std::string& stem) {
  Image pic = img;
  nlohmann::json faces = nlohmann::json::array();
  for (const Detection& d : dets) {
    const std::vector<float> pts = net.landmarks(img, d.box);
    for (size_t k = 0; k + 1 < pts.size(); k += 2) fill_circle(pic, pts[k], pts[k + 1], 1.5f, Color{0, 255, 0});
    draw_rect(pic, d.box.x1, d.box.y1, d.box.x2, d.box.y2, Color{255, 200, 0}, 1);
    faces.push_back({{"box", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}}, {"score", d.score}, {"points", pts}});
  }
  save_image(stem + ".landmarks.png", pic);
  write_file_atomic(stem + ".landmarks.json", nlohmann::json{{"faces", faces}}.dump(2) + "\n");
}

int cmd_predict(const cli::CommonArgs& a, const Options& o, const std::vector<std::string>& images) {
  const FaceDetect detect = load_detector(a, o);
  std::unique_ptr<models::FaceLandmark68> marks;
  if (o.landmarks) {
    const std::string path = kPretrained + "face_landmark_68_model.safetensors";
    require_file(path);
    marks = std::make_unique<models::FaceLandmark68>();
    nn::load_checkpoint(path, *marks);
    marks->eval();
    if (o.requantize) requantize(*marks, path, o.requantize);
  }
  std::unique_ptr<TinyFaceDetector> tiny;  // --show-grid: the candidates before NMS
  if (o.show_grid) {
    tiny = std::make_unique<TinyFaceDetector>();
    nn::load_checkpoint(model_path(a, o), *tiny);
    if (o.requantize) requantize(*tiny, model_path(a, o), o.requantize);
  }
  const float threshold = o.detector == "ssd" ? o.ssd.score_threshold : o.tiny.score_threshold;
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), {"face"}, "score", threshold, a};
  return cli::predict_images(images, s, [&](const std::string& path, const Image& img) {
    double st[3];
    cli::PredictedImage p;
    p.result.detections = detect(img, st);
    p.result.seconds = st[0] + st[1] + st[2];
    const auto stem = std::filesystem::path(s.out_dir) / std::filesystem::path(path).stem();
    if (marks) {
      std::filesystem::create_directories(s.out_dir);
      save_landmarks(*marks, img, p.result.detections, stem.string());
    }
    if (tiny) {
      std::vector<models::TinyFaceCandidate> cand;
      tiny->detect(img, o.tiny, nullptr, &cand);
      std::filesystem::create_directories(s.out_dir);
      save_image(stem.string() + ".grid.png", grid_picture(img, cand, o.tiny.input_size / 32));
    }
    return p;
  });
}

int cmd_bench(const cli::CommonArgs& a, const Options& o, const std::vector<std::string>& paths,
              int64_t limit) {
  const FaceDetect detect = load_detector(a, o);
  const std::vector<cli::BenchImage> images = cli::bench_images(a, paths, limit, 10);
  const cli::StageBench b = cli::time_own_stages(
      images, {"preprocess", "network", "decode_nms"}, {}, "none", [&](const Image& img) {
        cli::StageRun r;
        double st[3];
        r.detections = detect(img, st);
        r.seconds = {st[0], st[1], st[2]};
        return r;
      });
  return cli::report_stage_bench(b, a.json, {"pad + resize", "network", "decode + NMS"});
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"faces: face-api's face detectors (Tiny-YOLOv2, SSD-MobileNetV1) on real photos (lesson 06)"};
  cli::CommonArgs args;
  Options opt;
  int64_t limit = 0;
  std::vector<std::string> images;
  float threshold = 0.5f;
  auto add_detect = [&](cli::Command& sub) {
    sub.option("--detector", opt.detector, "tiny (Tiny-YOLOv2, default) or ssd (SSD-MobileNetV1)")
        .one_of({"tiny", "ssd"});
    sub.option("--threshold", threshold, "lowest face score kept (default 0.5)").range(0.0f, 1.0f);
    sub.option("--nms", opt.tiny.iou_threshold, "NMS IoU (default 0.4 tiny, 0.5 ssd)").range(0.0, 1.0);
    sub.option("--input-size", opt.tiny.input_size, "tiny: input side, multiple of 32 (default 416)")
        .range(32, 1024)
        .check([](const std::string& v) { return std::stoi(v) % 32 ? "not a multiple of 32" : ""; },
               "SIZE");
  };

  cli::Command predict = cli::add_command(app, args, "predict", "draw the faces found, with scores", true);
  add_detect(predict);
  predict.flag("--show-grid", opt.show_grid, "tiny: also draw the grid and every anchor box above the threshold");
  predict.option("--requantize", opt.requantize, "re-round the 8-bit weights to BITS bits (lesson 06)")
      .range(1, 8);
  predict.flag("--landmarks", opt.landmarks, "also the 68 landmarks of each face (lesson 02)");
  predict.option("images", images, "PNG/JPEG/BMP files").required();

  cli::Command bench = cli::add_command(app, args, "bench", "seconds per image by stage");
  add_detect(bench);
  bench.option("--limit", limit, "test scenes to time when no IMAGE is given (default 10)")
      .range(int64_t(1), int64_t(100000));
  bench.option("images", images, "PNG/JPEG/BMP files (default: test scenes)");

  const int rc_parse = cli::parse(app, argc, argv);
  if (rc_parse >= 0) return rc_parse;
  if (opt.show_grid && opt.detector != "tiny") {
    fmt::print(stderr, "--show-grid draws the tiny detector's grid: use it with --detector tiny\n");
    return 2;
  }
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    opt.tiny.score_threshold = opt.ssd.score_threshold = threshold;
    if ((predict && predict.count("--nms") == 0) || (bench && bench.count("--nms") == 0))
      opt.ssd.iou_threshold = 0.5;
    else
      opt.ssd.iou_threshold = opt.tiny.iou_threshold;
    if (predict) return cmd_predict(args, opt, images);
    return cmd_bench(args, opt, images, limit);
  });
}
