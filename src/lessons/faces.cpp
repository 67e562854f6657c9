// Lesson 06, "a real one": a real detector on real photos. face-api's Tiny Face Detector
// (Tiny-YOLOv2 with depthwise-separable convolutions, trained on faces) is imported from
// its TensorFlow.js weights (`make pretrained`, bin/import_tfjs) and run on detlab's
// engine: a 13 x 13 grid, 5 anchor boxes per cell, sigmoid offsets and objectness,
// exp(t) x anchor sizes, NMS (models/tiny_face_detector.h).
//   bin/faces predict IMAGE... [--threshold T] [--show-grid]   boxes + scores (PNG + JSON);
//                       --show-grid draws the grid and every anchor box above the threshold
//   bin/faces bench [IMAGE...]                                 seconds per image by stage
// One program rather than `bin/yolo --pretrained face`: this network is not trained
// here, has no eval split, and its input pipeline (pad to square, TF resize, mean RGB)
// and grid differ from bin/yolo's; yolo's commands would each need a second branch.
#include <fmt/core.h>

#include <filesystem>

#include "image/draw.h"
#include "lessons/common/cli.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/stage_bench.h"
#include "models/tiny_face_detector.h"
#include "nn/checkpoint.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using models::TinyFaceDetector;

namespace {

const char* kProgram = "faces";
const char* kDefaultModel = "data/pretrained/face-api/tiny_face_detector_model.safetensors";

std::unique_ptr<TinyFaceDetector> load(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw FileError(path, "no such file (make pretrained fetches and imports face-api's networks)");
  auto net = std::make_unique<TinyFaceDetector>();
  nn::load_checkpoint(path, *net);
  net->eval();
  return net;
}

// The grid (13 x 13 at 416) over the padded square, and each anchor box scoring above
// the threshold in its anchor's colour with the cell it belongs to: what a one-shot
// detector predicts before NMS.
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
  return pic;
}

int cmd_predict(const cli::CommonArgs& a, const models::TinyFaceDetectorOptions& o, bool show_grid,
                const std::vector<std::string>& images) {
  std::unique_ptr<TinyFaceDetector> net = load(a.model.empty() ? kDefaultModel : a.model);
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), {"face"}, "score",
                               o.score_threshold, a.json};
  return cli::predict_images(images, s, [&](const std::string& path, const Image& img) {
    models::TinyFaceStageTimes st;
    std::vector<models::TinyFaceCandidate> cand;
    cli::PredictedImage p;
    p.result.detections = net->detect(img, o, &st, &cand);
    p.result.seconds = st.total();
    if (show_grid) {
      std::filesystem::create_directories(s.out_dir);
      const auto stem = std::filesystem::path(s.out_dir) / std::filesystem::path(path).stem();
      save_image(stem.string() + ".grid.png", grid_picture(img, cand, o.input_size / 32));
    }
    return p;
  });
}

int cmd_bench(const cli::CommonArgs& a, const models::TinyFaceDetectorOptions& o,
              const std::vector<std::string>& paths, int64_t limit) {
  std::unique_ptr<TinyFaceDetector> net = load(a.model.empty() ? kDefaultModel : a.model);
  const std::vector<cli::BenchImage> images = cli::bench_images(a, paths, limit, 10);
  const cli::StageBench b = cli::time_own_stages(
      images, {"preprocess", "network", "decode_nms"}, {}, "none", [&](const Image& img) {
        models::TinyFaceStageTimes st;
        cli::StageRun r;
        r.detections = net->detect(img, o, &st);
        r.seconds = {st.preprocess, st.network, st.decode};
        return r;
      });
  return cli::report_stage_bench(b, a.json, {"pad + resize", "network", "decode + NMS"});
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"faces: face-api's Tiny Face Detector (Tiny-YOLOv2) on real photos (lesson 06)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  models::TinyFaceDetectorOptions opt;
  bool show_grid = false;
  int64_t limit = 0;
  std::vector<std::string> images;
  auto add_detect = [&](cli::Command& sub) {
    sub.option("--threshold", opt.score_threshold, "lowest objectness kept (default 0.5)")
        .range(0.0f, 1.0f);
    sub.option("--nms", opt.iou_threshold, "NMS IoU (default 0.4)").range(0.0, 1.0);
    sub.option("--input-size", opt.input_size, "network input side, multiple of 32 (default 416)")
        .range(32, 1024)
        .check([](const std::string& v) { return std::stoi(v) % 32 ? "not a multiple of 32" : ""; },
               "SIZE");
  };

  cli::Command predict = app.subcommand("predict", "draw the faces found, with scores");
  cli::add_common_flags(predict, args);
  add_detect(predict);
  predict.flag("--show-grid", show_grid, "also draw the grid and every anchor box above the threshold");
  predict.option("images", images, "PNG/JPEG/BMP files").required();

  cli::Command bench = app.subcommand("bench", "seconds per image by stage");
  cli::add_common_flags(bench, args);
  add_detect(bench);
  bench.option("--limit", limit, "test scenes to time when no IMAGE is given (default 10)")
      .range(int64_t(1), int64_t(100000));
  bench.option("images", images, "PNG/JPEG/BMP files (default: test scenes)");

  const int rc_parse = cli::parse(app, argc, argv);
  if (rc_parse >= 0) return rc_parse;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (predict) return cmd_predict(args, opt, show_grid, images);
    return cmd_bench(args, opt, images, limit);
  });
}
