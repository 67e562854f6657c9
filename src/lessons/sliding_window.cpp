// Lesson 03: detection as classification. A CNN that answers "background or which
// class?" for one S x S crop is applied to every window of an image pyramid; windows
// whose class score passes a threshold become detections, and per-class NMS keeps the
// best of each cluster. Two ways to score the windows:
//   --mode crops   cut out every window and run the network on it (the naive method)
//   --mode conv    run the network once per pyramid level over the whole image and
//                  read every window's score off the resulting map (OverFeat, Sermanet
//                  et al. 2014, sec. 3.5): the same numbers, computed once.
//   bin/sliding_window train [--pretrained FILE | --scratch]   crop classifier, 11 classes
//   bin/sliding_window eval [--mode conv|crops]   VOC AP@0.5 and COCO AP on the test scenes
//   bin/sliding_window predict IMAGE... [--heatmap]   detections (+ per-class score maps)
//   bin/sliding_window bench [IMAGE...]   windows/image, seconds/image for both modes
// Data: `bin/datagen scenes` train and test directories (see lessons/03).
#include <fmt/core.h>
#include <fmt/format.h>

#include <ctime>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autograd/ops.h"
#include "data/batching.h"
#include "data/detection_dataset.h"
#include "detection/nms.h"
#include "detection/sliding_windows.h"
#include "eval/coco_eval.h"
#include "eval/voc_ap.h"
#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/draw_detections.h"
#include "lessons/common/model_file.h"
#include "lessons/common/stage_bench.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "models/crop_classifier.h"
#include "models/localizer.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/sliding_window.safetensors";
const char* kDefaultPretrained = "data/models/classify.safetensors";

// ---- flags shared by the subcommands that scan windows ----------------------------
struct ScanOptions {
  std::vector<float> scales{16, 24, 34, 48};
  std::vector<float> aspects{0.5f, 1.0f, 2.0f};
  int stride = 4;
  std::string mode = "conv";
  float threshold = -1;  // -1: 0.05 for eval (AP needs the low scores), 0.5 for predict
  double nms = 0.3;
  int max_detections = 100;
  int crop_batch = 64;
  bool heatmap = false;
  int64_t limit = 0;
};

// --scales and --aspects: the windows' shapes (train draws its negatives from them too).
void add_window_shape_flags(cli::Command& sub, ScanOptions& o, const std::string& scales_help) {
  sub.option("--scales", o.scales, scales_help)
      .delimiter(',')
      .no_extra_args()
      .range(4.0f, 4096.0f);
  sub.option("--aspects", o.aspects, "window aspect ratios h/w")
      .delimiter(',')
      .no_extra_args()
      .range(0.05f, 20.0f);
}

void add_scan_flags(cli::Command& sub, ScanOptions& o, bool with_mode) {
  add_window_shape_flags(sub, o, "window sides in image pixels (area^0.5)");
  sub.option("--stride", o.stride, "window step in pyramid-level pixels (multiple of 4 for --mode conv)")
      .range(1, 1024);
  if (with_mode)
    sub.option("--mode", o.mode, "crops: one network pass per crop; conv: one per level")
        .one_of({"crops", "conv"});
  sub.option("--nms", o.nms, "IoU above which a lower-scoring box of the same class is dropped")
      .range(0.0, 1.0);
  sub.option("--crop-batch", o.crop_batch, "crops per network call in --mode crops")
      .range(1, 4096);
}

SlidingWindowConfig window_config(const ScanOptions& o, int crop_size) {
  SlidingWindowConfig c;
  c.crop_size = crop_size;
  c.stride = o.stride;
  c.scales = o.scales;
  c.aspects = o.aspects;
  return c;
}

models::ScanMode scan_mode(const std::string& m) {
  return m == "crops" ? models::ScanMode::Crops : models::ScanMode::Conv;
}

// ---- the model file -----------------------------------------------------------------
struct LoadedModel {
  std::unique_ptr<models::CropClassifier> net;
  std::vector<std::string> classes;  // the object classes; network class k+1 is classes[k]
};

LoadedModel load_model(const std::string& path) {
  const auto cfg = cli::read_model_config_as<models::CropClassifierConfig>(path, "sliding_window");
  LoadedModel m;
  m.classes = cli::read_model_names(path, "classes", cfg.num_classes - 1);
  m.net = cli::load_weights<models::CropClassifier>(path, cfg);
  return m;
}

// ---- training crops: positives at the ground truth with jitter, negatives elsewhere ----
// As in R-CNN's fine-tuning (Girshick et al. 2014, sec. 2.3): a window with IoU >= 0.5
// with an object is that object's class, one with IoU < 0.3 with every object is
// background; windows in between are not used.
struct CropSample {
  int64_t item = 0;
  Box window;
  int label = 0;  // 0 background, k + 1 for class k
  bool flip = false;
};

struct SamplingOptions {
  int positives_per_object = 3;
  int negatives_per_image = 10;
  float positive_iou = 0.5f, negative_iou = 0.3f;
};

// Max IoU of `w` with the item's objects; `which` gets the object's index.
float best_iou(const DetectionItem& item, const Box& w, int& which) {
  float best = 0;
  which = -1;
  for (size_t i = 0; i < item.boxes.size(); ++i) {
    const float iou = box_iou(w, item.boxes[i]);
    if (iou > best) best = iou, which = static_cast<int>(i);
  }
  return best;
}

// A window of the given side (area^0.5) and aspect centred at (cx, cy), moved inside the
// image; false when it does not fit.
bool place_window(float cx, float cy, float side, float aspect, int W, int H, Box& out) {
  const float w = side / std::sqrt(aspect), h = side * std::sqrt(aspect);
  if (w > W || h > H || w < 4 || h < 4) return false;
  const float x0 = std::clamp(cx - w / 2, 0.0f, W - w), y0 = std::clamp(cy - h / 2, 0.0f, H - h);
  out = {x0, y0, x0 + w, y0 + h};
  return true;
}

std::vector<CropSample> sample_crops(const DetectionItem& item, int64_t index,
                                     const ScanOptions& so, const SamplingOptions& o, Rng rng) {
  std::vector<CropSample> out;
  const int W = item.image.width, H = item.image.height;
  const auto& aspects = so.aspects;
  const float lo = *std::min_element(so.scales.begin(), so.scales.end());
  const float hi = *std::max_element(so.scales.begin(), so.scales.end());
  for (size_t k = 0; k < item.boxes.size(); ++k) {
    const Box& b = item.boxes[k];
    // The window shape a scan would use for it: the aspect nearest in log ratio.
    const float ratio = b.height() / std::max(1.0f, b.width());
    float aspect = aspects[0];
    for (float a : aspects)
      if (std::abs(std::log(a / ratio)) < std::abs(std::log(aspect / ratio))) aspect = a;
    const float side = std::sqrt(std::max(1.0f, box_area(b)));
    for (int p = 0; p < o.positives_per_object; ++p)
      for (int attempt = 0; attempt < 10; ++attempt) {
        const float s = side * std::exp(rng.uniform(-0.25f, 0.25f));
        const float w = s / std::sqrt(aspect), h = s * std::sqrt(aspect);
        Box win;
        if (!place_window(b.cx() + rng.uniform(-0.15f, 0.15f) * w,
                          b.cy() + rng.uniform(-0.15f, 0.15f) * h, s, aspect, W, H, win))
          continue;
        int which = -1;
        if (best_iou(item, win, which) < o.positive_iou) continue;
        out.push_back({index, win, item.labels[which] + 1, rng.bernoulli(0.5f)});
        break;
      }
  }
  for (int n = 0; n < o.negatives_per_image; ++n)
    for (int attempt = 0; attempt < 10; ++attempt) {
      const float aspect = aspects[rng.below(static_cast<uint32_t>(aspects.size()))];
      Box win;
      bool ok;
      if (!item.boxes.empty() && rng.bernoulli(0.5f)) {
        // A partial overlap: near an object, shifted or the wrong size. These teach
        // the classifier that half a trouser is not a trouser.
        const Box& b = item.boxes[rng.below(static_cast<uint32_t>(item.boxes.size()))];
        const float s = std::sqrt(std::max(1.0f, box_area(b))) * std::exp(rng.uniform(-0.8f, 0.8f));
        ok = place_window(b.cx() + rng.uniform(-1.0f, 1.0f) * s, b.cy() + rng.uniform(-1.0f, 1.0f) * s,
                          s, aspect, W, H, win);
      } else {
        const float s = lo * std::exp(rng.uniform(0.0f, std::log(hi / lo)));
        ok = place_window(rng.uniform(0.0f, float(W)), rng.uniform(0.0f, float(H)), s, aspect, W,
                          H, win);
      }
      int which = -1;
      if (!ok || best_iou(item, win, which) >= o.negative_iou) continue;
      out.push_back({index, win, 0, rng.bernoulli(0.5f)});
      break;
    }
  return out;
}

// Every image's samples, each image from its own Rng fork (independent of threads).
std::vector<CropSample> sample_dataset(const DetectionDataset& ds, const ScanOptions& so,
                                       const SamplingOptions& o, const Rng& rng) {
  std::vector<std::vector<CropSample>> per(ds.items.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < static_cast<int64_t>(ds.items.size()); ++i)
    per[i] = sample_crops(ds.items[i], i, so, o, rng.fork(static_cast<uint64_t>(i)));
  std::vector<CropSample> all;
  for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
  return all;
}

struct CropBatch {
  Tensor images, labels;
};

// Samples order[start, start + size) (indices modulo the list) warped to S x S.
CropBatch make_crop_batch(const DetectionDataset& ds, const std::vector<CropSample>& samples,
                          const std::vector<int64_t>& order, int64_t start, int64_t size, int S) {
  CropBatch b{Tensor({size, 3, S, S}), Tensor({size})};
  const int64_t plane = 3LL * S * S;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < size; ++i) {
    const CropSample& s = samples[order[(start + i) % order.size()]];
    const Box& w = s.window;
    const Image crop = warp_region(ds.items[s.item].image, w.x1, w.y1, w.x2, w.y2, S, S, {},
                                   Border::Clamp);
    const Tensor x = models::backbone_input(crop);
    float* dst = b.images.data() + i * plane;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < S; ++y)
        for (int xx = 0; xx < S; ++xx)
          dst[(c * S + y) * S + xx] = x[(c * S + y) * S + (s.flip ? S - 1 - xx : xx)];
    b.labels[i] = static_cast<float>(s.label);
  }
  return b;
}

// Crop accuracy (all crops, and objects only) of a fixed sample of test crops.
struct CropAccuracy {
  double all = 0, objects = 0, background = 0;
  int64_t n = 0;
};

CropAccuracy crop_accuracy(models::CropClassifier& net, const DetectionDataset& ds,
                           const std::vector<CropSample>& samples) {
  NoGradGuard no_grad;
  const bool was = net.is_training();
  net.eval();
  std::vector<int64_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  int64_t correct = 0, obj = 0, obj_correct = 0, bg_correct = 0;
  const int S = net.config.input_size;
  for (size_t s = 0; s < samples.size(); s += 256) {
    const int64_t n = std::min<int64_t>(256, samples.size() - s);
    CropBatch b = make_crop_batch(ds, samples, order, static_cast<int64_t>(s), n, S);
    Tensor pred = argmax(net.classify(Var(b.images)).value(), 1);
    for (int64_t i = 0; i < n; ++i) {
      const bool ok = pred[i] == b.labels[i];
      correct += ok;
      if (b.labels[i] > 0) obj++, obj_correct += ok;
      else bg_correct += ok;
    }
  }
  net.train(was);
  CropAccuracy a;
  a.n = static_cast<int64_t>(samples.size());
  a.all = a.n ? double(correct) / a.n : 0;
  a.objects = obj ? double(obj_correct) / obj : 0;
  a.background = a.n - obj ? double(bg_correct) / (a.n - obj) : 0;
  return a;
}

struct TrainOptions {
  std::string pretrained = kDefaultPretrained;
  bool scratch = false;
  int64_t limit = 0;
  int hidden = 64, c3 = 32, input_size = 22;
  bool freeze_backbone = false;
};

int cmd_train(cli::CommonArgs a, const TrainOptions& t, const ScanOptions& so) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  if (a.epochs < 0) a.epochs = 8;
  if (a.batch < 0) a.batch = 64;
  if (a.lr < 0) a.lr = 3e-3f;

  // 1. data: crops of the training scenes, resampled every epoch
  DetectionDataset train = load_detection_dataset(cli::scenes_split_dir(a, "train"), t.limit);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), t.limit);
  if (train.items.empty()) throw FileError(train.dir, "the training set has no images");
  SamplingOptions sampling;
  const std::vector<CropSample> test_crops = sample_dataset(test, so, sampling, Rng(12345));
  const int64_t per_epoch =
      static_cast<int64_t>(sample_dataset(train, so, sampling, Rng(a.seed).fork(1000)).size());
  if (per_epoch == 0) throw FileError(train.dir, "no training crops (no objects?)");

  // 2. model: lesson 00's backbone + new neck and convolutional head
  Rng rng(a.seed);
  models::CropClassifierConfig cfg;
  cfg.num_classes = static_cast<int>(train.class_names.size()) + 1;
  cfg.hidden = t.hidden;
  cfg.c3 = t.c3;
  cfg.input_size = t.input_size;
  models::CropClassifier model(cfg, rng);
  std::string init = "scratch";
  if (!t.scratch) {
    const int loaded = models::load_grey_backbone(t.pretrained, model);
    init = t.pretrained;
    if (!a.quiet) fmt::print(stderr, "backbone: {} tensors from {}\n", loaded, t.pretrained);
  }
  if (t.freeze_backbone) model.backbone->set_requires_grad(false);
  if (!a.quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));

  // 3. softmax loss over background + classes, AdamW with a cosine LR
  nn::Adam opt = nn::AdamW(model.parameters(), a.lr, 0.05f);
  const int64_t steps = (per_epoch + a.batch - 1) / a.batch;
  nn::LrSchedule sched;
  sched.kind = nn::LrSchedule::Kind::Cosine;
  sched.base_lr = a.lr;
  sched.total = static_cast<int>(steps * a.epochs);
  sched.warmup = static_cast<int>(std::min<int64_t>(100, steps));

  // 4. train
  std::vector<CropSample> samples;
  std::vector<int64_t> order;
  auto step = [&](int epoch, int64_t s, int64_t global) {
    if (s == 0) {
      samples = sample_dataset(train, so, sampling, Rng(a.seed).fork(1000 + epoch));
      Rng shuffle = Rng(a.seed).fork(100 + epoch);
      order = shuffled_indices(static_cast<int64_t>(samples.size()), shuffle);
    }
    opt.set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
    CropBatch b = make_crop_batch(train, samples, order, s * a.batch, a.batch, cfg.input_size);
    Var logits = model.classify(Var(b.images));
    Var loss = ag::cross_entropy(logits, b.labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    Tensor pred = argmax(logits.value(), 1);
    int64_t correct = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) correct += pred[i] == b.labels[i];
    return cli::StepResult{loss.item(), b.labels.numel(), correct};
  };
  CropAccuracy last;
  auto epoch_end = [&](cli::EpochLog& log) {
    last = crop_accuracy(model, test, test_crops);
    log.metrics["test_crop_acc"] = last.all;
    log.metrics["test_object_acc"] = last.objects;
    log.metrics["test_background_acc"] = last.background;
  };
  const auto t0 = Clock::now();
  auto logs = cli::train_loop({a.epochs, steps, a.quiet}, step, epoch_end,
                              [&](int e) { return sched.at(static_cast<int>(e * steps)); });
  const double seconds = seconds_since(t0);

  // 5. save
  json args = {{"epochs", a.epochs},          {"batch", a.batch},
               {"lr", a.lr},                  {"seed", a.seed},
               {"init", init},                {"train_images", train.items.size()},
               {"crops_per_epoch", per_epoch}, {"freeze_backbone", t.freeze_backbone},
               {"scales", so.scales},         {"aspects", so.aspects}};
  nn::save_checkpoint(model_path, model,
                      {{"config", cfg.to_json()},
                       {"classes", json(train.class_names).dump()},
                       {"train_args", args.dump()},
                       {"test_crop_accuracy", fmt::format("{:.4f}", last.all)}});
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  cli::write_training_logs(stem, logs, "sliding_window crop classifier (" + init + ")");
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path},
                             {"crop_accuracy", last.all},
                             {"object_accuracy", last.objects},
                             {"background_accuracy", last.background},
                             {"crops_per_epoch", per_epoch},
                             {"seconds", seconds},
                             {"init", init}})
                           .dump());
  } else {
    fmt::print(
        "test crops: accuracy {:.2f}% (objects {:.2f}%, background {:.2f}%, {} crops) after {} "
        "epochs of {} crops, {:.1f} s\n",
        100 * last.all, 100 * last.objects, 100 * last.background, last.n, a.epochs, per_epoch,
        seconds);
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", model_path, stem, stem);
  }
  return 0;
}

// ---- detection: scores -> thresholded, per-class NMS'd boxes --------------------------

struct ImageDetections {
  std::vector<Detection> dets;
  std::vector<PyramidLevel> levels;
  models::WindowScores scores;
  double seconds = 0;  // scoring + NMS
};

ImageDetections detect(models::CropClassifier& net, const Image& img, const ScanOptions& so,
                       float threshold) {
  ImageDetections out;
  const auto t0 = Clock::now();
  out.levels = make_pyramid(img.width, img.height, window_config(so, net.config.input_size));
  out.scores = models::score_windows(net, img, out.levels, scan_mode(so.mode), so.crop_batch);
  const std::vector<Box> windows = all_window_boxes(out.levels);
  const int C = net.config.num_classes;
  std::vector<Box> boxes;
  std::vector<float> scores;
  std::vector<int> classes;
  for (int64_t w = 0; w < out.scores.windows; ++w)
    for (int c = 1; c < C; ++c) {
      const float p = out.scores.probs[w * C + c];
      if (p >= threshold) {
        boxes.push_back(clip_box(windows[w], float(img.width), float(img.height)));
        scores.push_back(p);
        classes.push_back(c - 1);
      }
    }
  const std::vector<int> keep = batched_nms(boxes, scores, classes, so.nms);
  for (size_t i = 0; i < keep.size() && static_cast<int>(i) < so.max_detections; ++i)
    out.dets.push_back({boxes[keep[i]], classes[keep[i]], scores[keep[i]], {}, {}});
  out.seconds = seconds_since(t0);
  return out;
}

int cmd_eval(const cli::CommonArgs& a, ScanOptions so) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  LoadedModel m = load_model(model_path);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), so.limit);
  const float threshold = so.threshold < 0 ? 0.05f : so.threshold;
  int64_t windows = 0, positions = 0;
  const DetectionEval e = evaluate_detector(test, [&](const DetectionItem& item) {
    ImageDetections d = detect(*m.net, item.image, so, threshold);
    windows += d.scores.windows;
    positions += d.scores.positions;
    return ImageResult{d.dets, d.seconds, 0.0};
  });
  const double n = std::max<size_t>(1, test.items.size());
  if (a.json) {
    json j = detection_eval_json(e, test.class_names);
    j["mode"] = so.mode;
    j["windows_per_image"] = windows / n;
    j["positions_per_image"] = positions / n;
    fmt::print("{}\n", j.dump());
    return 0;
  }
  print_detection_eval(e, test.class_names);
  fmt::print("{} images, --mode {}: {:.0f} windows/image, {:.0f} network positions/image, "
             "{:.3f} s/image\n",
             test.items.size(), so.mode, windows / n, positions / n, e.seconds / n);
  return 0;
}

// ---- predict: boxes on the image, optional per-class score maps ------------------------
// Class c's map: at each pixel, the best score of a window whose central half covers
// it -- where the classifier "sees" a c, at any scale or shape.
Image heatmap_grid(const Image& img, const ImageDetections& d, const std::vector<std::string>& names) {
  const int K = static_cast<int>(names.size()), C = K + 1, cols = 5;
  const int rows = (K + cols - 1) / cols, W = img.width, H = img.height;
  Image grid(cols * W, rows * H, 3, 255);
  const std::vector<Box> windows = all_window_boxes(d.levels);
  for (int k = 0; k < K; ++k) {
    std::vector<float> heat(static_cast<size_t>(W) * H, 0.0f);
    for (size_t w = 0; w < windows.size(); ++w) {
      const float p = d.scores.probs[static_cast<int64_t>(w) * C + k + 1];
      const Box& b = windows[w];
      const int x0 = std::max(0, int(std::lround(b.cx() - b.width() / 4)));
      const int x1 = std::min(W, int(std::lround(b.cx() + b.width() / 4)));
      const int y0 = std::max(0, int(std::lround(b.cy() - b.height() / 4)));
      const int y1 = std::min(H, int(std::lround(b.cy() + b.height() / 4)));
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) heat[y * W + x] = std::max(heat[y * W + x], p);
    }
    const int ox = (k % cols) * W, oy = (k / cols) * H;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        // Dimmed grey image, with the score as red-to-yellow on top.
        const float g = 0.3f * (0.299f * img.at(x, y, 0) + 0.587f * img.at(x, y, 1) +
                                0.114f * img.at(x, y, 2));
        const float h = heat[y * W + x];
        const float r = g + h * (255 - g), gg = g + std::max(0.0f, 2 * h - 1) * (255 - g);
        grid.at(ox + x, oy + y, 0) = static_cast<uint8_t>(std::lround(r));
        grid.at(ox + x, oy + y, 1) = static_cast<uint8_t>(std::lround(gg));
        grid.at(ox + x, oy + y, 2) = static_cast<uint8_t>(std::lround(g));
      }
    draw_text(grid, ox + 1, oy + 1, names[k], {255, 255, 255}, {0, 0, 0});
  }
  return grid;
}

int cmd_predict(const cli::CommonArgs& a, const ScanOptions& so,
                const std::vector<std::string>& images) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  LoadedModel m = load_model(model_path);
  const std::string out_dir = cli::predictions_dir(a);
  const float threshold = so.threshold < 0 ? 0.5f : so.threshold;
  json all = json::array();
  for (const auto& path : images) {
    const Image img = load_image(path, 3);
    ImageDetections d;
    try {
      d = detect(*m.net, img, so, threshold);
    } catch (const std::invalid_argument& e) {
      throw FileError(path, e.what());  // e.g. a window too small for this large image
    }
    const Image canvas = cli::draw_detections(img, d.dets, m.classes);
    fs::create_directories(out_dir);
    const std::string stem = (fs::path(out_dir) / fs::path(path).stem()).string();
    save_image(stem + ".sliding_window.png", canvas);
    const json dets = cli::detections_json(d.dets, m.classes);
    json entry = {{"image", path},         {"mode", so.mode},
                  {"windows", d.scores.windows}, {"positions", d.scores.positions},
                  {"seconds", d.seconds},  {"detections", dets},
                  {"annotated", stem + ".sliding_window.png"}};
    if (so.heatmap) {
      save_image(stem + ".sliding_window_heatmap.png", heatmap_grid(img, d, m.classes));
      entry["heatmap"] = stem + ".sliding_window_heatmap.png";
    }
    if (!a.json)
      fmt::print("{}: {} detections >= {:.2f} from {} windows (--mode {}, {:.3f} s) -> {}{}\n",
                 path, d.dets.size(), threshold, d.scores.windows, so.mode, d.seconds,
                 stem + ".sliding_window.png",
                 so.heatmap ? ", " + stem + ".sliding_window_heatmap.png" : std::string());
    all.push_back(entry);
  }
  if (a.json) fmt::print("{}\n", all.dump());
  return 0;
}

// ---- bench: the cost of both scans on the same windows ----------------------------------
int cmd_bench(const cli::CommonArgs& a, ScanOptions so, const std::vector<std::string>& paths) {
  std::unique_ptr<models::CropClassifier> net;
  if (const std::string path = cli::bench_model_file(a, kDefaultModel); !path.empty()) {
    net = std::move(load_model(path).net);
  } else {  // timing does not depend on the weights
    Rng rng(a.seed);
    models::CropClassifierConfig cfg;
    cfg.hidden = TrainOptions().hidden;
    cfg.c3 = TrainOptions().c3;
    net = std::make_unique<models::CropClassifier>(cfg, rng);
  }
  const std::vector<cli::BenchImage> images = cli::bench_images(a, paths, so.limit, 2);
  if (!a.quiet && !a.json)
    fmt::print("{:<36} {:>8} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}\n", "image", "windows",
               "conv cells", "crops s", "conv s", "speed-up", "(CPU)", "max |dp|");
  json rows = json::array();
  const SlidingWindowConfig wc = window_config(so, net->config.input_size);
  try {  // warm-up: first-touch allocations
    auto lv = make_pyramid(images[0].image.width, images[0].image.height, wc);
    models::score_windows(*net, images[0].image, lv, models::ScanMode::Conv);
  } catch (const std::invalid_argument& e) {
    throw FileError(images[0].name, e.what());
  }
  double sum_crops = 0, sum_conv = 0, sum_cpu_crops = 0, sum_cpu_conv = 0;
  for (const auto& [name, img] : images) {
    std::vector<PyramidLevel> levels;
    try {
      levels = make_pyramid(img.width, img.height, wc);
    } catch (const std::invalid_argument& e) {
      throw FileError(name, e.what());
    }
    // Wall time, and CPU time of all threads (steadier on a machine shared with others).
    auto t0 = Clock::now();
    std::clock_t c0 = std::clock();
    models::WindowScores crops = models::score_windows(*net, img, levels, models::ScanMode::Crops, so.crop_batch);
    const double t_crops = seconds_since(t0), cpu_crops = double(std::clock() - c0) / CLOCKS_PER_SEC;
    t0 = Clock::now();
    c0 = std::clock();
    models::WindowScores conv = models::score_windows(*net, img, levels, models::ScanMode::Conv);
    const double t_conv = seconds_since(t0), cpu_conv = double(std::clock() - c0) / CLOCKS_PER_SEC;
    const float diff = max_abs_diff(crops.probs, conv.probs);
    sum_crops += t_crops;
    sum_conv += t_conv;
    sum_cpu_crops += cpu_crops;
    sum_cpu_conv += cpu_conv;
    rows.push_back({{"image", name},
                    {"width", img.width},
                    {"height", img.height},
                    {"levels", levels.size()},
                    {"windows", crops.windows},
                    {"conv_positions", conv.positions},
                    {"crops_seconds", t_crops},
                    {"conv_seconds", t_conv},
                    {"speedup", t_crops / t_conv},
                    {"crops_cpu_seconds", cpu_crops},
                    {"conv_cpu_seconds", cpu_conv},
                    {"cpu_speedup", cpu_crops / cpu_conv},
                    {"max_abs_prob_diff", diff}});
    if (!a.json)
      fmt::print("{:<36} {:>8} {:>10} {:>8.3f} {:>8.3f} {:>7.1f}x {:>7.1f}x {:>9.2g}\n", name,
                 crops.windows, conv.positions, t_crops, t_conv, t_crops / t_conv,
                 cpu_crops / cpu_conv, diff);
  }
  if (a.json) {
    fmt::print("{}\n", json({{"stride", so.stride},
                             {"scales", so.scales},
                             {"aspects", so.aspects},
                             {"crop_batch", so.crop_batch},
                             {"images", rows},
                             {"speedup", sum_crops / sum_conv},
                             {"cpu_speedup", sum_cpu_crops / sum_cpu_conv}})
                           .dump());
  } else {
    fmt::print("mean: crops {:.3f} s/image, conv {:.3f} s/image, speed-up {:.1f}x (CPU time "
               "{:.1f}x) (stride {}, {} scales x {} aspects, crop batch {})\n",
               sum_crops / images.size(), sum_conv / images.size(), sum_crops / sum_conv,
               sum_cpu_crops / sum_cpu_conv, so.stride, so.scales.size(), so.aspects.size(),
               so.crop_batch);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"sliding_window: a crop classifier scanned over an image pyramid (lesson 03)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  TrainOptions topt;
  ScanOptions so;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train the crop classifier (background + classes)");
  cli::add_common_flags(train, args);
  train.option("--pretrained", topt.pretrained, "classify model whose backbone to start from");
  train.flag("--scratch", topt.scratch, "random initial weights instead of --pretrained");
  train.flag("--freeze-backbone", topt.freeze_backbone, "train only the new layers");
  train.option("--hidden", topt.hidden, "channels of the 4x4 'fully connected' conv")
      .range(1, 4096);
  train.option("--neck-channels", topt.c3, "channels of the neck conv")
      .range(1, 1024);
  train.option("--input-size", topt.input_size, "crop side S (4k + 14: 18, 22, 26, 30, ...)")
      .range(18, 254);
  train.option("--limit", topt.limit, "use this many train (and test) scenes only")
      .range(int64_t(1), int64_t(10000000));
  add_window_shape_flags(train, so, "window sides the negatives are drawn between");

  cli::Command eval = app.subcommand("eval", "VOC AP@0.5 and COCO AP on the test scenes");
  cli::add_common_flags(eval, args);
  add_scan_flags(eval, so, true);
  eval.option("--threshold", so.threshold, "lowest class score kept (default 0.05)")
      .range(0.0f, 1.0f);
  eval.option("--limit", so.limit, "evaluate this many scenes only")
      .range(int64_t(1), int64_t(10000000));

  cli::Command predict = app.subcommand("predict", "draw detections (and score maps) on images");
  cli::add_common_flags(predict, args);
  add_scan_flags(predict, so, true);
  predict.option("--threshold", so.threshold, "lowest class score drawn (default 0.5)")
      .range(0.0f, 1.0f);
  predict.flag("--heatmap", so.heatmap, "also write the per-class score maps");
  predict.option("images", images, "PNG/JPEG/BMP files").required();

  cli::Command bench = app.subcommand("bench", "windows and seconds per image, crops vs conv");
  cli::add_common_flags(bench, args);
  add_scan_flags(bench, so, false);
  bench.option("--limit", so.limit, "test scenes to time when no IMAGE is given (default 2)")
      .range(int64_t(1), int64_t(100000));
  bench.option("images", images, "PNG/JPEG/BMP files (default: test scenes)");

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  if ((eval || predict || bench) && (bench || so.mode == "conv") && so.stride % 4 != 0) {
    fmt::print(stderr, "error: --stride {}: the fully convolutional scan needs a multiple of 4\n",
               so.stride);
    return 2;
  }
  if (train && (topt.input_size - 14) % 4 != 0) {
    fmt::print(stderr, "error: --input-size {}: must be 4k + 14 (18, 22, 26, 30, ...)\n",
               topt.input_size);
    return 2;
  }
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt, so);
    if (eval) return cmd_eval(args, so);
    if (predict) return cmd_predict(args, so, images);
    return cmd_bench(args, so, images);
  });
}
