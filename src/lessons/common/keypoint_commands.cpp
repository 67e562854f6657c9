#include "lessons/common/keypoint_commands.h"

#include <fmt/core.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/detection_dataset.h"
#include "data/figures.h"
#include "eval/detection_eval.h"
#include "eval/pose_eval.h"
#include "image/draw.h"
#include "lessons/common/draw_pose.h"
#include "lessons/common/figure_splits.h"
#include "lessons/common/model_file.h"
#include "lessons/common/report.h"
#include "lessons/common/stage_bench.h"

namespace dl::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;
using models::KeypointRcnn;

namespace {

const char* kProgram = "mask_rcnn";
const char* kDefaultModel = "data/models/keypoint_rcnn.safetensors";
const char* kFigures = "data/generated/figures";
// One epoch over the 8,000 training figures at 2e-3 (lessons/07): within the 5-minute
// budget on 2 cores; 2 epochs over 2,000 figures at 1e-3 reached PCK 0.735, this 0.806.
const TrainDefaults kTrainDefaults{1, -1, 2e-3f};

std::unique_ptr<KeypointRcnn> load(const std::string& path) {
  if (!fs::exists(path))
    throw FileError(path, "no such model file (run `bin/mask_rcnn train --keypoints` first)");
  return load_detector<KeypointRcnn, models::KeypointRcnnConfig>(path, kProgram);
}

// The figures' directory unless --data names another.
CommonArgs on_figures(CommonArgs a) {
  if (a.data.empty()) a.data = kFigures;
  return a;
}

// The detector's stages as eval, bench and the validation see them.
const DetectorStages kStages = faster_rcnn_stages({"keypoint_roi_align", "keypoint_head", "heatmap_decode"},
                                                   {"kp RoIAlign", "kp head", "kp decode"});
StageRun detect_stages(KeypointRcnn& net, const Image& img, const models::KeypointRcnnDetectOptions& d) {
  models::KeypointRcnnStageTimes st;
  StageRun r;
  r.detections = net.detect(img, d, &st);
  r.seconds = st.faster.in_order();
  r.seconds.insert(r.seconds.end(), {st.keypoint_pool, st.keypoint_head, st.decode});
  r.proposals = d.faster.proposals.post_nms_top_n;
  return r;
}

// One figure's pose as DeepPose's metrics take it: the best-scoring person's joints
// (the figures hold one person each, as DeepPose assumes). No detection at all: every
// joint at the image's centre, so that its joints count as misses, not as absent.
std::vector<float> best_pose(const std::vector<Detection>& dets, int K, const Image& img) {
  std::vector<float> pose(2 * K);
  for (int k = 0; k < K; ++k) {
    const bool found = !dets.empty() && dets[0].keypoints.size() == 3u * K;
    pose[2 * k] = found ? dets[0].keypoints[3 * k] : img.width / 2.0f;
    pose[2 * k + 1] = found ? dets[0].keypoints[3 * k + 1] : img.height / 2.0f;
  }
  return pose;
}

// PCK and the rest of bin/deeppose eval's table on `figures` (their poses one detection
// pass gave), and the person boxes' AP on the same images.
struct KeypointTest {
  PoseCascadeEval pose;
  DetectionEval boxes;
  int64_t missed = 0;  // figures without any detection
};
KeypointTest test_keypoints(const KeypointDataset& figures, const DetectionDataset& scenes,
                            const std::function<StageRun(const Image&)>& detect, int K) {
  // One detection pass over the figures; the box evaluation reads the same runs (both
  // data sets are the same annotations file, image by image).
  std::map<int64_t, StageRun> runs;
  KeypointTest t;
  std::vector<std::vector<float>> poses;
  for (const KeypointItem& item : figures.items) {
    StageRun& r = runs[item.image_id] = detect(item.image);
    t.missed += r.detections.empty();
    poses.push_back(best_pose(r.detections, K, item.image));
  }
  t.pose = evaluate_cascade(figures, {poses});
  t.boxes = evaluate_detector(scenes, [&](const DetectionItem& item) {
    const auto it = runs.find(item.image_id);
    if (it == runs.end()) throw FileError(scenes.dir, fmt::format("image {} is not among the figures", item.image_id));
    return image_result(it->second, kStages);
  });
  return t;
}

}  // namespace

void add_keypoint_flags(Command& train, Command& eval, Command& predict, Command& bench,
                        KeypointFlags& k) {
  for (Command* c : {&train, &eval, &predict, &bench})
    c->flag("--keypoints", k.on,
            "the keypoint branch on the pose figures (§5), data/models/keypoint_rcnn.safetensors; "
            "train's defaults then: 1 epoch, lr 0.002");
  train.option("--keypoint-rois", k.train.keypoint_rois_per_image,
               "with --keypoints: positive RoIs per image for the keypoint head")
      .range(1, 100000);
  train.option("--keypoint-weight", k.train.keypoint_weight, "with --keypoints: weight of the keypoint loss")
      .range(0.0f, 100.0f);
  train.option("--keypoint-channels", k.head.channels, "with --keypoints: width of the keypoint head's convs")
      .range(1, 1024);
  train.option("--keypoint-convs", k.head.convs, "with --keypoints: 3x3 convs of the keypoint head")
      .range(0, 16);
}

// ---- train ----------------------------------------------------------------------------
int keypoint_train(CommonArgs a0, const KeypointFlags& k, const KeypointStart& s) {
  CommonArgs a = on_figures(a0);
  DetectorTraining run(a, kDefaultModel, kTrainDefaults);
  const int images_per_batch = a.batch > 0 ? a.batch : s.images_per_batch;

  // 1. data: the pose figures (one person, 14 joints each); the first --val-images test
  //    figures validate each epoch, as boxes (mAP) and as poses (PCK)
  FigureSplits figs = load_figure_splits(a, s.flags.limit);
  const KeypointDataset& train = figs.train;
  figs.test.items.resize(std::min<size_t>(figs.test.items.size(), s.flags.val_images));
  const DetectionDataset val = load_detection_dataset(figs.test.dir, s.flags.val_images);

  // 2. model: lesson 05's Faster R-CNN (its architecture and shared layers), a new
  //    person/background head and a new keypoint head
  models::KeypointRcnnConfig cfg;
  cfg.keypoint_head = k.head;
  cfg.keypoint_head.joints = train.num_joints();
  if (!s.init.empty()) cfg.faster_rcnn = read_model_config_as<models::FasterRcnnConfig>(s.init, "faster_rcnn");
  cfg.faster_rcnn.fast_rcnn.num_classes = 2;
  Rng rng(a.seed);
  KeypointRcnn model(cfg, rng);
  std::string init;
  if (s.init.empty()) {
    init = start_from_pretrained(s.flags.pretrained, s.flags.scratch, model, a.quiet);
  } else {
    // Everything but cls_score and bbox_pred, whose rows are the scenes' eleven classes.
    for (const char* part : {"fast_rcnn.backbone.", "fast_rcnn.neck.", "fast_rcnn.fc6.", "fast_rcnn.fc7.", "rpn."}) {
      const nn::LoadReport r = nn::load_checkpoint_prefix(s.init, model, part, std::string("faster_rcnn.") + part);
      if (r.loaded.empty()) throw FileError(s.init, fmt::format("no {}* tensors", part));
    }
    init = s.init;
    if (!a.quiet) fmt::print(stderr, "faster_rcnn: shared layers from {}; class and box layers new\n", s.init);
  }

  // 3. the multi-task loss: Faster R-CNN's four + L_kp, one backward pass
  EpochBatches batches(static_cast<int64_t>(train.items.size()), images_per_batch, a.seed);
  auto batch_loss = [&](int epoch, int64_t step, int64_t global) {
    const std::vector<int64_t> idx = batches.step(epoch, step);
    Rng step_rng = Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global));
    const models::KeypointBatch b = models::make_keypoint_batch(train, idx, s.flip, figure_mirror(), step_rng);
    models::KeypointRcnnTrainingOptions o = k.train;
    o.faster.rois_per_image = s.rois_per_image;
    const models::KeypointRcnnLoss L = model.losses(b, o, step_rng);
    StepLosses out;
    out.images = images_per_batch;
    out.total = L.total;
    out.parts = {{"rpn_cls", L.faster.rpn_objectness.item()}, {"rpn_box", L.faster.rpn_box.item()},
                 {"cls_loss", L.faster.classification.item()},
                 {"box_loss", L.faster.localization.item()}, {"keypoint_loss", L.keypoint.item()}};
    return out;
  };
  const int K = train.num_joints();
  auto detect = [&](const Image& img) { return detect_stages(model, img, {}); };
  run.fit(
      model, batches.steps_per_epoch(), batch_loss, [&] { return evaluate_stages(val, kStages, detect); },
      [&](EpochLog& log) {
        model.eval();
        std::vector<std::vector<float>> poses;
        for (const KeypointItem& item : figs.test.items) poses.push_back(best_pose(detect(item.image).detections, K, item.image));
        log.metrics["val_pck"] = score_poses(figs.test, poses).pck.mean;
        model.train();
      });

  // 4. save
  const json args = {{"epochs", a.epochs}, {"images_per_batch", images_per_batch},
                     {"rois_per_image", s.rois_per_image},
                     {"keypoint_rois_per_image", k.train.keypoint_rois_per_image},
                     {"keypoint_weight", k.train.keypoint_weight}, {"flip", s.flip}, {"lr", a.lr},
                     {"seed", a.seed}, {"init", init}, {"train_images", train.items.size()}};
  return run.finish(model, {"keypoint_rcnn", init, cfg.to_json(), {"person"}, args.dump(), val.items.size(),
                            -1, "test figures"});
}

// ---- eval ------------------------------------------------------------------------------
int keypoint_eval(const CommonArgs& a0, const models::FasterRcnnDetectOptions& d, int64_t limit) {
  const CommonArgs a = on_figures(a0);
  std::unique_ptr<KeypointRcnn> net = load(a.model.empty() ? kDefaultModel : a.model);
  const int K = net->config.keypoint_head.joints;
  KeypointDataset figures = load_figures_test(a, K);
  if (limit > 0 && static_cast<size_t>(limit) < figures.items.size()) figures.items.resize(limit);
  const DetectionDataset scenes = load_detection_dataset(figures.dir, static_cast<int64_t>(figures.items.size()));
  models::KeypointRcnnDetectOptions o;
  o.faster = d;
  const KeypointTest t = test_keypoints(figures, scenes, [&](const Image& img) { return detect_stages(*net, img, o); }, K);
  if (result_wanted(a)) {
    json j = pose_eval_json(t.pose, figures.joint_names);
    j["box_ap"] = t.boxes.coco.stats[0];
    j["box_voc_map50"] = t.boxes.voc_map50;
    j["images_without_detection"] = t.missed;
    j["seconds_per_image"] = t.boxes.seconds / std::max<double>(1, scenes.items.size());
    if (output_result(a, "eval", j)) return 0;
  }
  fmt::print("{}", format_pose_eval(t.pose, figures.joint_names));
  fmt::print("person boxes: AP {:.3f}, VOC AP@0.5 {:.1f}%; {} of {} figures without a detection; {:.4f} s/image\n",
             t.boxes.coco.stats[0], 100 * t.boxes.voc_map50, t.missed, figures.items.size(),
             t.boxes.seconds / std::max<double>(1, scenes.items.size()));
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
int keypoint_predict(const CommonArgs& a, const models::FasterRcnnDetectOptions& d,
                     const std::vector<std::string>& images) {
  std::unique_ptr<KeypointRcnn> net = load(a.model.empty() ? kDefaultModel : a.model);
  const int K = net->config.keypoint_head.joints;
  std::vector<std::string> names = K == kFigureJoints ? figure_joint_names() : std::vector<std::string>{};
  for (int k = static_cast<int>(names.size()); k < K; ++k) names.push_back(fmt::format("joint{}", k + 1));
  models::KeypointRcnnDetectOptions o;
  o.faster = d;
  o.max_poses = 1;
  const std::string out_dir = predictions_dir(a);
  json all = json::array();
  for (const std::string& path : images) {
    const Image img = load_image(path, 3);
    std::vector<Detection> dets;
    try {
      dets = net->detect(img, o);
    } catch (const std::invalid_argument& e) {  // the backbone pools by 2 twice
      throw FileError(path, fmt::format("{}x{} image too small for this network ({})", img.width,
                                        img.height, e.what()));
    }
    json entry = {{"image", path}, {"width", img.width}, {"height", img.height}};
    if (dets.empty() || dets[0].score < d.head.threshold) {
      entry["joints"] = json::array();
      if (!a.json) fmt::print("{}: no person with score >= {:.2f}\n", path, d.head.threshold);
      all.push_back(entry);
      continue;
    }
    const Detection& best = dets[0];
    const std::vector<float> pose = best_pose(dets, K, img);
    Image boxed = img;
    draw_rect(boxed, best.box.x1, best.box.y1, best.box.x2 - 1, best.box.y2 - 1, {0, 255, 0});
    fs::create_directories(out_dir);
    const std::string out_path = (fs::path(out_dir) / (fs::path(path).stem().string() + ".keypoint_rcnn.png")).string();
    save_image(out_path, draw_pose(boxed, pose, names, false));
    entry["score"] = best.score;
    entry["box"] = {best.box.x1, best.box.y1, best.box.x2, best.box.y2};
    entry["joints"] = pose_json(pose, names);
    entry["annotated"] = out_path;
    all.push_back(entry);
    if (!a.json) {
      fmt::print("{}: person {:.2f} at ({:.1f}, {:.1f}, {:.1f}, {:.1f}) -> {}\n", path, best.score,
                 best.box.x1, best.box.y1, best.box.x2, best.box.y2, out_path);
      print_pose(pose, names);
    }
  }
  output_result(a, "predict", all);
  return 0;
}

// ---- bench ---------------------------------------------------------------------------------
int keypoint_bench(const CommonArgs& a0, const models::FasterRcnnDetectOptions& d,
                   const std::vector<std::string>& images, int64_t limit) {
  const CommonArgs a = on_figures(a0);
  const auto net = bench_detector<KeypointRcnn, models::KeypointRcnnConfig>(a, kDefaultModel, kProgram);
  models::KeypointRcnnDetectOptions o;
  o.faster = d;
  return bench_stages(a, images, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, o); });
}

}  // namespace dl::cli
