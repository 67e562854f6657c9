#include "lessons/common/region_detector_commands.h"

#include "lessons/common/detection_eval.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/report.h"
#include "util/files.h"

namespace dl::cli {

models::RegionDetectOptions RegionDetectorCommands::options() const {
  models::RegionDetectOptions o;
  // Drawing keeps the detections the SVMs call positive; AP needs the low-ranked ones too.
  o.threshold = !std::isnan(threshold) ? threshold : predict ? 0.0f : -3.0f;
  o.nms = nms;
  o.regress = !no_regression;
  return o;
}

void add_region_detector_commands(Command& app, CommonArgs& args, ProposalOptions& po,
                                  RegionDetectorCommands& c) {
  auto add_detect_flags = [&](Command& sub, const char* thr_help) {
    add_common_flags(sub, args);
    add_proposal_flags(sub, po);
    sub.option("--threshold", c.threshold, thr_help);
    sub.option("--nms", c.nms, "per-class NMS IoU (R-CNN 0.3)").range(0.0, 1.0);
    sub.flag("--no-regression", c.no_regression, "score the proposals as they are");
  };
  c.eval = app.subcommand("eval", "VOC AP@0.5 and COCO AP on the test scenes");
  add_detect_flags(c.eval, "lowest SVM score kept (default -3)");
  c.eval.option("--limit", c.limit, "evaluate this many scenes only")
      .range(int64_t(1), int64_t(10000000));
  add_report_flag(c.eval, args);
  c.predict = app.subcommand("predict", "draw detections on images");
  add_detect_flags(c.predict, "lowest SVM score drawn (default 0)");
  c.predict.option("images", c.images, "PNG/JPEG/BMP files").required();
  add_report_flag(c.predict, args);
  add_ground_truth_flag(c.predict, args);
  c.bench = app.subcommand("bench", "seconds per image by stage");
  add_detect_flags(c.bench, "lowest SVM score kept (default -3)");
  c.bench.option("--limit", c.limit, "test scenes to time when no IMAGE is given (default 5)")
      .range(int64_t(1), int64_t(100000));
  c.bench.option("images", c.images, "PNG/JPEG/BMP files (default: test scenes)");
}

namespace {

// A StageRun as eval and predict report it: the detections and their seconds.
ImageResult image_result(StageRun r) {
  double seconds = 0;
  for (double s : r.seconds) seconds += s;
  return {std::move(r.detections), seconds, 0.0};
}

}  // namespace

int run_region_eval(const CommonArgs& a, const ProposalOptions& po,
                    const RegionDetectorCommands& c, const RegionDetector& d) {
  DetectionDataset test = load_detection_dataset(scenes_split_dir(a, "test"), c.limit);
  return report_region_eval(test, po, a, c.options().regress,
                            [&](const DetectionItem& item, const std::vector<Box>& props) {
                              return image_result(d.detect(item.image, props));
                            });
}

int run_region_predict(const CommonArgs& a, const ProposalOptions& po,
                       const RegionDetectorCommands& c, const std::string& program,
                       const RegionDetector& d) {
  const PredictSettings s{program, predictions_dir(a), d.classes,
                          "SVM score", c.options().threshold, a};
  return predict_with_proposals(c.images, po, s,
                                [&](const Image& img, const std::vector<Box>& props) {
                                  return image_result(d.detect(img, props));
                                });
}

StageBench run_region_bench(const CommonArgs& a, const ProposalOptions& po,
                            const RegionDetectorCommands& c,
                            const std::vector<std::string>& stages, const StageDetect& detect) {
  const std::vector<BenchImage> images = bench_images(a, c.images, c.limit, 5);
  return time_stages(images, po, stages, detect);
}

}  // namespace dl::cli
