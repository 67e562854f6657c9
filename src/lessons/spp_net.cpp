// Lesson 04, part 2: SPP-net for detection (He, Zhang, Ren & Sun, "Spatial Pyramid
// Pooling in Deep Convolutional Networks for Visual Recognition", ECCV 2014, §4).
// R-CNN's pipeline with one change: the convolutional layers run ONCE per image, and
// every proposal window is projected onto the last conv map and max-pooled there by a
// spatial pyramid into a fixed-length vector (src/detection/spp_pool.h). So:
//   1. Selective Search proposals (lessons/common/proposal_options.h)
//   2. conv map of the whole image: lesson 00's pretrained backbone, frozen — SPP-net
//      fine-tunes only the fully connected layers (§4.1: "we only fine-tune the fc
//      layers")
//   3. spatial pyramid pooling of each window over the paper's levels {6, 3, 2, 1}
//      (§4.1: 50 bins; its maps are 13 x 13 conv5, ours 32 x 32 stride-4 conv2 maps
//      where objects span 5-15 cells)
//   4. fc6, fc7 fine-tuned on the pooled vectors: softmax over K + 1, IoU >= 0.5 with an
//      object is that class, otherwise background, 25% foreground batches (§4.1)
//   5. R-CNN's last stages on the fc7 features: per-class linear SVMs with hard-negative
//      mining, ridge box regression, per-class NMS (lessons/common/region_classifier.h)
// Because the convs are frozen their maps are computed once per training image and kept,
// so fine-tuning touches only the pooled vectors.
//
// Multi-scale feature extraction (§4.2, src/detection/scale_choice.h): with --scales the
// image is resized by every factor given and a conv map computed at each; each window
// is pooled from the one scale at which its area is closest to the pretraining input's
// (--target-size, lesson 00's 28 x 28 items). Fine-tuning, the SVMs' and regressors'
// features and detection all use the same choice; the scales are stored in the model.
//
//   bin/spp_net train          fine-tune fc6/fc7, train SVMs and box regressors
//   bin/spp_net eval           VOC AP@0.5 per class, mAP and COCO AP on the test scenes
//   bin/spp_net predict IMAGE...  PNG with boxes + JSON
//   bin/spp_net bench [IMAGE...]  seconds per image: proposals / conv / SPP / fc / SVM /
//                                 regression / NMS
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/detection_dataset.h"
#include "detection/scale_choice.h"
#include "detection/spp_pool.h"
#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/model_file.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/region_classifier.h"
#include "lessons/common/region_detector_commands.h"
#include "lessons/common/stage_bench.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "models/fast_rcnn.h"
#include "models/localizer.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "models/classifier.h"
#include "tensor/ops.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/spp_net.safetensors";
const char* kDefaultPretrained = "data/models/classify.safetensors";
constexpr float kStride = 4;  // input pixels per conv-map cell (two 2x2 poolings)
constexpr float kMaxScale = 8;  // largest image scale factor accepted


// ---- the model: frozen convs + SPP + fc6/fc7/softmax + SVMs + regressors -------------
struct SppNetConfig {
  int c1 = 16, c2 = 32;               // lesson 00's backbone
  std::vector<int> levels = {6, 3, 2, 1};  // pyramid grids n x n (§4.1)
  int hidden = 256;                   // fc6 / fc7 width = the SVMs' feature dimension
  int num_classes = 11;               // K + 1
  float dropout = 0.25f;
  float feature_scale = 1;            // fc7 features times this (mean L2 norm 20, as R-CNN)
  // §4.2: image scale factors (ascending) and the side of the pretraining input whose
  // area each window's chosen scale brings it closest to. Models saved before the key
  // existed are single-scale.
  std::vector<float> scales = {1.0f};
  float target_size = 28;
  int bins() const {
    int b = 0;
    for (int n : levels) b += n * n;
    return b;
  }
  int spp_dim() const { return c2 * bins(); }
  int classes() const { return num_classes - 1; }
  std::string to_json() const {
    return json({{"arch", "spp_net"}, {"c1", c1}, {"c2", c2}, {"levels", levels},
                 {"hidden", hidden}, {"num_classes", num_classes}, {"dropout", dropout},
                 {"feature_scale", feature_scale}, {"stride", kStride}, {"scales", scales},
                 {"target_size", target_size}})
        .dump();
  }
  static SppNetConfig from_json(const std::string& text) {  // throws std::invalid_argument
    SppNetConfig c;
    try {
      const json j = json::parse(text);
      if (j.value("arch", "") != "spp_net")
        throw std::invalid_argument("not an spp_net model (arch '" +
                                    j.value("arch", std::string("?")) + "')");
      c.c1 = j.at("c1");
      c.c2 = j.at("c2");
      c.levels = j.at("levels").get<std::vector<int>>();
      c.hidden = j.at("hidden");
      c.num_classes = j.at("num_classes");
      c.dropout = j.at("dropout");
      c.feature_scale = j.at("feature_scale");
      c.scales = j.value("scales", std::vector<float>{1.0f});
      c.target_size = j.value("target_size", 28.0f);
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("bad model config: ") + e.what());
    }
    bool ok = c.c1 >= 1 && c.c1 <= 4096 && c.c2 >= 1 && c.c2 <= 4096 && !c.levels.empty() &&
              c.hidden >= 1 && c.hidden <= 65536 && c.num_classes >= 2 &&
              c.num_classes <= 10000 && c.dropout >= 0 && c.dropout < 1 && c.feature_scale > 0;
    for (int n : c.levels) ok = ok && n >= 1 && n <= 64;
    ok = ok && !c.scales.empty() && c.scales.size() <= 16 && c.target_size > 0 &&
         c.target_size <= 4096;
    for (float s : c.scales) ok = ok && s > 0 && s <= kMaxScale;
    if (!ok) throw std::invalid_argument("bad model config: sizes out of range");
    return c;
  }
};

class SppNet : public nn::Module {
 public:
  SppNet(const SppNetConfig& c, Rng& rng) : config(c) {
    backbone = models::make_backbone(3, c.c1, c.c2, rng);
    fc6 = std::make_shared<nn::Linear>(c.spp_dim(), c.hidden, rng);
    fc7 = std::make_shared<nn::Linear>(c.hidden, c.hidden, rng);
    drop6 = std::make_shared<nn::Dropout>(c.dropout, rng.next_u64());
    drop7 = std::make_shared<nn::Dropout>(c.dropout, rng.next_u64());
    cls_score = std::make_shared<nn::Linear>(c.hidden, c.num_classes, rng);
    register_module("backbone", backbone);
    register_module("fc6", fc6);
    register_module("fc7", fc7);
    register_module("drop6", drop6);
    register_module("drop7", drop7);
    register_module("cls_score", cls_score);
    const int K = c.classes(), D = c.hidden;
    svm_weight = register_buffer("svm_weight", Tensor({K, D}));
    svm_bias = register_buffer("svm_bias", Tensor({K}));
    bbox_weight = register_buffer("bbox_weight", Tensor({K, D + 1, 4}));
  }
  // The conv map of one image, [1, c2, H/4, W/4]: frozen, always in eval mode.
  Tensor conv_map(const Image& img) {
    NoGradGuard g;
    backbone->eval();
    const Tensor x = models::backbone_input(img);
    return (*backbone)(Var(x.reshape({1, 3, img.height, img.width}))).value();
  }
  // Pooled vectors [n, hidden] -> fc7 after its ReLU (dropout active in train mode).
  Var fc7_of(const Var& spp) {
    Var h = (*drop6)(ag::relu((*fc6)(spp)));
    return (*drop7)(ag::relu((*fc7)(h)));
  }
  Var forward(const Var& spp) override { return (*cls_score)(fc7_of(spp)); }
  std::string name() const override { return "SppNet"; }
  // The fc parameters: the only ones fine-tuned.
  std::vector<Var> fc_parameters() const {
    std::vector<Var> p;
    for (const auto& m : {fc6, fc7, cls_score})
      for (const Var& v : m->parameters()) p.push_back(v);
    return p;
  }

  SppNetConfig config;
  std::shared_ptr<nn::Sequential> backbone;
  std::shared_ptr<nn::Linear> fc6, fc7, cls_score;
  std::shared_ptr<nn::Dropout> drop6, drop7;
  Tensor *svm_weight, *svm_bias, *bbox_weight;
};

// One image's conv maps, one per scale of the model (§4.2). sx, sy: the resized
// image's size over the original's, per axis (the exact factor after rounding to whole
// pixels), so a window maps to the scale's map with stride kStride / sx image pixels.
struct ConvPyramid {
  std::vector<Tensor> maps;  // [1, c2, h_s, w_s]
  std::vector<float> sx, sy;
};

// conv maps at every scale; seconds per scale added to `scale_seconds` if given.
ConvPyramid conv_pyramid(SppNet& m, const Image& img,
                         std::vector<double>* scale_seconds = nullptr) {
  ConvPyramid p;
  const auto& scales = m.config.scales;
  if (scale_seconds) scale_seconds->resize(scales.size(), 0.0);
  for (size_t i = 0; i < scales.size(); ++i) {
    const auto t0 = Clock::now();
    if (scales[i] == 1.0f) {  // the image as it is: the single-scale path, unchanged
      p.maps.push_back(m.conv_map(img));
      p.sx.push_back(1.0f), p.sy.push_back(1.0f);
    } else {
      // At least one conv cell: the backbone's two 2x2 poolings need 4 pixels.
      const int w = std::max(4, static_cast<int>(std::lround(scales[i] * img.width)));
      const int h = std::max(4, static_cast<int>(std::lround(scales[i] * img.height)));
      p.maps.push_back(m.conv_map(resize_bilinear(img, w, h)));
      p.sx.push_back(static_cast<float>(w) / img.width);
      p.sy.push_back(static_cast<float>(h) / img.height);
    }
    if (scale_seconds) (*scale_seconds)[i] += seconds_since(t0);
  }
  return p;
}

// SPP vectors [n, c2 * bins] of `boxes`: each window pooled on the map of its chosen
// scale (choose_scale), projected with that map's stride. With the one scale 1 every
// window is pooled on the image's own map, as before multi-scale existed.
Tensor spp_vectors(const SppNet& m, const ConvPyramid& p, const std::vector<Box>& boxes,
                   std::vector<int64_t>* windows_per_scale = nullptr) {
  const int64_t n = static_cast<int64_t>(boxes.size()), P = m.config.spp_dim();
  const size_t S = p.maps.size();
  if (windows_per_scale) windows_per_scale->resize(S, 0);
  if (n == 0) return Tensor({0, P});
  auto pool = [&](size_t s, const std::vector<Box>& windows) {
    const Tensor& map = p.maps[s];
    const int h = static_cast<int>(map.size(2)), w = static_cast<int>(map.size(3));
    return spp_pool_forward(map, spp_rois(windows, 0, kStride, w, h), m.config.levels);
  };
  std::vector<std::vector<size_t>> group(S);  // window indices by chosen scale
  for (size_t k = 0; k < boxes.size(); ++k)
    group[choose_scale(boxes[k], m.config.scales, m.config.target_size)].push_back(k);
  Tensor out({n, P});
  for (size_t s = 0; s < S; ++s) {
    if (group[s].empty()) continue;
    if (windows_per_scale) (*windows_per_scale)[s] += static_cast<int64_t>(group[s].size());
    std::vector<Box> scaled;
    for (size_t k : group[s]) scaled.push_back(scale_box(boxes[k], p.sx[s], p.sy[s]));
    const Tensor v = pool(s, scaled);
    for (size_t j = 0; j < group[s].size(); ++j)
      std::copy_n(v.data() + int64_t(j) * P, P, out.data() + int64_t(group[s][j]) * P);
  }
  return out;
}

struct RegionTimes {
  double conv = 0, spp = 0, fc = 0;
  std::vector<double> conv_scale;        // conv seconds per scale
  std::vector<int64_t> windows_scale;    // windows pooled at each scale
};

// Region features [n, hidden] (fc7, scaled): conv once per scale, SPP per window, fc in
// batches.
Tensor region_features(SppNet& m, const Image& img, const ConvPyramid* pyr_in,
                       const std::vector<Box>& boxes, RegionTimes* t = nullptr) {
  auto t0 = Clock::now();
  const ConvPyramid pyr = pyr_in ? *pyr_in : conv_pyramid(m, img, t ? &t->conv_scale : nullptr);
  if (t) t->conv += seconds_since(t0);
  t0 = Clock::now();
  const Tensor v = spp_vectors(m, pyr, boxes, t ? &t->windows_scale : nullptr);
  if (t) t->spp += seconds_since(t0);
  t0 = Clock::now();
  const int D = m.config.hidden;
  const int64_t n = static_cast<int64_t>(boxes.size());
  Tensor f({n, D});
  if (n > 0) {
    NoGradGuard g;
    m.eval();
    f = m.fc7_of(Var(v)).value().reshape({n, D});
    for (float& x : f) x *= m.config.feature_scale;
  }
  if (t) t->fc += seconds_since(t0);
  return f;
}

std::unique_ptr<SppNet> load_model(const std::string& path,
                                   std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<SppNet, SppNetConfig>(path, "spp_net", classes);
}

// ---- detection ----------------------------------------------------------------------
using DetectOptions = cli::RegionDetectOptions;

// The stages after the proposals, as bench times them.
const std::vector<std::string> kStages = {"conv", "spp", "fc", "svm", "regression", "nms"};

// One image's detections and the seconds of each of kStages. For bench's rows per scale
// (§4.2), `extra` holds the conv seconds at each of the model's scales, then the number
// of windows pooled at each.
cli::StageRun detect(SppNet& m, const Image& img, const std::vector<Box>& proposals,
                     const DetectOptions& o) {
  RegionTimes rt;
  const Tensor f = region_features(m, img, nullptr, proposals, &rt);
  cli::RegionStageTimes st;
  std::vector<Detection> dets = cli::detect_regions(f, proposals, *m.svm_weight, *m.svm_bias,
                                                    *m.bbox_weight, img.width, img.height, o, st);
  const size_t S = m.config.scales.size();
  std::vector<double> extra = rt.conv_scale;
  extra.resize(S, 0.0);
  extra.insert(extra.end(), rt.windows_scale.begin(), rt.windows_scale.end());
  extra.resize(2 * S, 0.0);
  return {std::move(dets), {rt.conv, rt.spp, rt.fc, st.svm, st.regression, st.nms}, extra};
}

// SPP-net's detector as the shared eval and predict run it
// (lessons/common/region_detector_commands.h): the model file at `path`, options o.
cli::RegionDetector open_detector(const std::string& path, const DetectOptions& o) {
  cli::RegionDetector d;
  std::shared_ptr<SppNet> m = load_model(path, &d.classes);
  d.detect = [m, o](const Image& img, const std::vector<Box>& p) { return detect(*m, img, p, o); };
  return d;
}

// ---- training -----------------------------------------------------------------------
struct TrainOptions : cli::RegionTrainOptions {
  std::string pretrained = kDefaultPretrained;
  bool scratch = false;
  int hidden = 256;  // 128: ~5 points mAP less (frozen convs leave the fc layers all the work)
  std::vector<int> levels = {6, 3, 2, 1};
  // One scale by default: the convs run once per image (§4.1), the lecture's SPP-net.
  // §4.2's five scales resize the shorter side to S = {480, 576, 688, 864, 1200} with
  // 688 the single scale; as factors of our 128-pixel scene, --scales
  // 0.7,0.84,1,1.26,1.74. Measured on the 200 test scenes: mAP 30.7 -> 38.0 %, COCO AP
  // 0.194 -> 0.249 (the wider {0.5, 0.7, 1, 1.4, 2}: 34.3 %, 0.211), for about 2.3x the
  // test time (conv on 6.8x the pixels) — slower than our R-CNN, whose crops are tiny.
  std::vector<float> scales = {1.0f};
  float target_size = 28;  // lesson 00's 28 x 28 input: the paper's 224 x 224
};

using cli::Labelled;
using cli::Window;
using cli::label_windows;

// A batch of SPP vectors of `fg` foreground and `bg` background windows drawn with rng
// from the precomputed conv maps. Draws first, pooling in parallel: thread-independent.
void make_batch(const SppNet& m, const std::vector<ConvPyramid>& maps, const Labelled& w, int fg,
                int bg, Rng rng, Tensor& x, Tensor& labels) {
  const int n = fg + bg, P = m.config.spp_dim();
  x = Tensor({n, P});
  labels = Tensor({n});
  std::vector<const Window*> pick;
  for (int i = 0; i < n; ++i) {
    const auto& pool = (i < fg && !w.fg.empty()) || w.bg.empty() ? w.fg : w.bg;
    pick.push_back(&pool[rng.below(static_cast<uint32_t>(pool.size()))]);
  }
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const Tensor v = spp_vectors(m, maps[pick[i]->item], {pick[i]->box});
    std::copy_n(v.data(), P, x.data() + int64_t(i) * P);
    labels[i] = static_cast<float>(pick[i]->label);
  }
}

std::vector<ConvPyramid> conv_maps(SppNet& m, const DetectionDataset& ds) {
  std::vector<ConvPyramid> maps(ds.items.size());
  for (size_t i = 0; i < ds.items.size(); ++i) maps[i] = conv_pyramid(m, ds.items[i].image);
  return maps;
}

int cmd_train(cli::CommonArgs a, const TrainOptions& t, const ProposalOptions& po) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  if (a.epochs < 0) a.epochs = 6;
  if (a.batch < 0) a.batch = 128;
  if (a.lr < 0) a.lr = 1e-3f;
  const auto t_all = Clock::now();
  auto log = [&](const std::string& s) {
    if (!a.quiet) fmt::print(stderr, "{}\n", s);
  };

  // 1. data and proposals (cached on disk)
  DetectionDataset train = load_detection_dataset(cli::scenes_split_dir(a, "train"), t.limit);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), t.limit);
  if (train.items.empty()) throw FileError(train.dir, "the training set has no images");
  auto t0 = Clock::now();
  const auto train_props = dataset_proposals(train, po);
  const auto test_props = dataset_proposals(test, po);
  const double proposal_seconds = seconds_since(t0);
  int64_t nprops = 0;
  for (const auto& p : train_props) nprops += static_cast<int64_t>(p.size());
  log(fmt::format("proposals: {:.1f} per train image ({} preset, {:.1f} s incl. cache reads)",
                  double(nprops) / train.items.size(), po.preset, proposal_seconds));
  const Labelled windows = label_windows(train, train_props);
  const Labelled test_windows = label_windows(test, test_props);
  if (windows.fg.empty()) throw FileError(train.dir, "no foreground windows (no objects?)");
  log(fmt::format("fine-tuning windows: {} foreground (IoU >= 0.5 or ground truth), {} background",
                  windows.fg.size(), windows.bg.size()));

  // 2. the model: lesson 00's backbone (frozen), new fc layers
  SppNetConfig cfg;
  cfg.num_classes = static_cast<int>(train.class_names.size()) + 1;
  cfg.hidden = t.hidden;
  cfg.levels = t.levels;
  cfg.scales = t.scales;
  cfg.target_size = t.target_size;
  Rng rng(a.seed);
  SppNet model(cfg, rng);
  std::string init = "scratch";
  if (!t.scratch) {
    const int loaded = models::load_grey_backbone(t.pretrained, model);
    init = t.pretrained;
    log(fmt::format("backbone: {} tensors from {} (frozen)", loaded, t.pretrained));
  }
  // 3. conv maps once per image: the convs never change (§4.1)
  t0 = Clock::now();
  const std::vector<ConvPyramid> train_maps = conv_maps(model, train);
  const std::vector<ConvPyramid> test_maps = conv_maps(model, test);
  const double conv_seconds = seconds_since(t0);
  log(fmt::format("conv maps: {} images x {} scales ({}) in {:.1f} s",
                  train.items.size() + test.items.size(), cfg.scales.size(),
                  fmt::join(cfg.scales, ", "), conv_seconds));

  // 4. fine-tune fc6, fc7 and the softmax on SPP vectors
  nn::Adam opt = nn::AdamW(model.fc_parameters(), a.lr, 0.05f);
  const int64_t steps = t.steps_per_epoch;
  nn::LrSchedule sched;
  sched.kind = nn::LrSchedule::Kind::Cosine;
  sched.base_lr = a.lr;
  sched.total = static_cast<int>(steps * a.epochs);
  sched.warmup = static_cast<int>(std::min<int64_t>(100, steps));
  const int fg = std::max(1, static_cast<int>(std::lround(a.batch * t.fg_fraction)));
  const int bg = std::max(0, a.batch - fg);
  Tensor test_x, test_y;
  const bool have_test = !test_windows.fg.empty() && !test_windows.bg.empty();
  if (have_test) make_batch(model, test_maps, test_windows, 256, 768, Rng(12345), test_x, test_y);
  auto step = [&](int, int64_t, int64_t global) {
    model.train();
    opt.set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
    Tensor x, y;
    make_batch(model, train_maps, windows, fg, bg, Rng(a.seed).fork(1000000 + global), x, y);
    Var logits = model.forward(Var(x));
    Var loss = ag::cross_entropy(logits, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    const Tensor pred = argmax(logits.value(), 1);
    int64_t correct = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) correct += pred[i] == y[i];
    return cli::StepResult{loss.item(), y.numel(), correct};
  };
  double test_acc = -1;
  auto epoch_end = [&](cli::EpochLog& l) {
    if (!have_test) return;
    NoGradGuard g;
    model.eval();
    const Tensor pred = argmax(model.forward(Var(test_x)).value(), 1);
    int64_t ok = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) ok += pred[i] == test_y[i];
    test_acc = double(ok) / pred.numel();
    l.metrics["test_window_acc"] = test_acc;
  };
  t0 = Clock::now();
  auto logs = cli::train_loop({a.epochs, steps, a.quiet}, step, epoch_end,
                              [&](int e) { return sched.at(static_cast<int>(e * steps)); });
  const double finetune_seconds = seconds_since(t0);
  model.eval();

  // 5. fc7 features of every proposal and ground-truth box, scaled to mean norm 20
  t0 = Clock::now();
  const int D = cfg.hidden;
  std::vector<Tensor> prop_feats(train.items.size()), gt_feats(train.items.size());
  RegionTimes feature_times;  // counts the windows each scale serves
  for (size_t i = 0; i < train.items.size(); ++i) {
    prop_feats[i] = region_features(model, train.items[i].image, &train_maps[i], train_props[i],
                                    &feature_times);
    gt_feats[i] = region_features(model, train.items[i].image, &train_maps[i], train.items[i].boxes);
  }
  const float scale = cli::norm20_scale(prop_feats, D);
  model.config.feature_scale = scale;
  for (auto* v : {&prop_feats, &gt_feats})
    for (Tensor& f : *v)
      for (float& x : f) x *= scale;
  const double feature_seconds = seconds_since(t0);
  log(fmt::format("features: {} regions x {} dims in {:.1f} s (scale {:.3g} for mean norm 20)",
                  nprops, D, feature_seconds, scale));
  if (cfg.scales.size() > 1)
    log(fmt::format("proposal windows per image scale {}: {}", fmt::join(cfg.scales, " / "),
                    fmt::join(feature_times.windows_scale, " / ")));

  // 6. SVMs with hard-negative mining and ridge box regression (R-CNN's, §4.1)
  t0 = Clock::now();
  const json svm_log =
      cli::train_region_svms(train, train_props, prop_feats, gt_feats, D, t.svm_c, t.svm_rounds,
                             a.seed, *model.svm_weight, *model.svm_bias, log);
  const double svm_seconds = seconds_since(t0);
  t0 = Clock::now();
  const double lambda = t.ridge_lambda >= 0 ? t.ridge_lambda : 1000.0 * 9216.0 / D;
  const json reg_log =
      cli::train_region_regressors(train, train_props, prop_feats, D, lambda, *model.bbox_weight);
  const double regression_seconds = seconds_since(t0);
  const double train_seconds = seconds_since(t_all);

  // 7. save
  json args = {{"epochs", a.epochs},          {"batch", a.batch},
               {"lr", a.lr},                  {"seed", a.seed},
               {"init", init},                {"train_images", train.items.size()},
               {"steps_per_epoch", steps},    {"fg_fraction", t.fg_fraction},
               {"preset", po.preset},         {"max_proposals", po.max_proposals},
               {"svm_c", t.svm_c},            {"svm_rounds", t.svm_rounds},
               {"ridge_lambda", lambda},      {"scales", cfg.scales},
               {"target_size", cfg.target_size}};
  json timing = {{"total", train_seconds},          {"proposals", proposal_seconds},
                 {"conv_maps", conv_seconds},       {"finetune", finetune_seconds},
                 {"features", feature_seconds},     {"svm", svm_seconds},
                 {"regression", regression_seconds}};
  nn::save_checkpoint(model_path, model,
                      {{"config", model.config.to_json()},
                       {"classes", json(train.class_names).dump()},
                       {"train_args", args.dump()},
                       {"svm_mining", svm_log.dump()},
                       {"bbox_examples", reg_log.dump()}});
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  cli::write_training_logs(stem, logs, "spp_net fc fine-tuning on SPP vectors (" + init + ")");
  // Wall times live beside the model, not in it: the model file stays bit-identical.
  write_file_atomic(stem + ".train.json",
                    json({{"train_seconds", train_seconds}, {"stages", timing}}).dump(2) + "\n");
  const double last_loss = logs.empty() ? 0.0 : logs.back().train_loss;
  const double first_loss = logs.empty() ? 0.0 : logs.front().train_loss;
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path},
                             {"test_window_accuracy", test_acc},
                             {"first_epoch_loss", first_loss},
                             {"last_epoch_loss", last_loss},
                             {"seconds", timing},
                             {"train_seconds", train_seconds},
                             {"proposals_per_image", double(nprops) / train.items.size()},
                             {"scales", cfg.scales},
                             {"proposal_windows_per_scale", feature_times.windows_scale},
                             {"init", init}})
                           .dump());
  } else {
    fmt::print("trained in {:.1f} s: proposals {:.1f} s, conv maps {:.1f} s, fine-tuning {:.1f} s "
               "(test window accuracy {:.1f}%), features {:.1f} s, SVMs {:.1f} s, box regression "
               "{:.1f} s\n",
               train_seconds, proposal_seconds, conv_seconds, finetune_seconds, 100 * test_acc,
               feature_seconds, svm_seconds, regression_seconds);
    fmt::print("saved {} (+ {}.csv, .svg, .train.json)\n", model_path, stem);
  }
  return 0;
}

// ---- bench: where SPP-net's time goes, with the conv time of each scale ----------------
int cmd_bench(const cli::CommonArgs& a, const ProposalOptions& po, const DetectOptions& o,
              const cli::RegionDetectorCommands& c) {
  std::unique_ptr<SppNet> model;
  if (const std::string path = cli::bench_model_file(a, kDefaultModel); !path.empty()) {
    model = load_model(path);
  } else {
    Rng rng(a.seed);
    SppNetConfig cfg;
    cfg.scales = TrainOptions{}.scales;
    model = std::make_unique<SppNet>(cfg, rng);
  }
  const cli::StageBench b = cli::run_region_bench(
      a, po, c, kStages,
      [&](const Image& img, const std::vector<Box>& p) { return detect(*model, img, p, o); });
  const double n = static_cast<double>(b.images);
  const std::vector<float>& scales = model->config.scales;
  json per_scale = json::array();  // detect()'s extra: conv seconds, then windows, per scale
  for (size_t i = 0; i < scales.size(); ++i)
    per_scale.push_back({{"scale", scales[i]},
                         {"conv", b.extra[i] / n},
                         {"windows", b.extra[scales.size() + i] / n}});
  if (a.json) {
    json j = cli::stage_bench_json(b);
    j["scales"] = scales;
    j["target_size"] = model->config.target_size;
    j["per_scale"] = per_scale;
    fmt::print("{}\n", j.dump());
    return 0;
  }
  std::vector<std::string> labels;
  for (const std::string& s : b.stages)
    labels.push_back(s == "conv" ? fmt::format("conv x{}", scales.size()) : s);
  cli::print_stage_table(b, labels, [&](const std::string& stage, double total) {
    if (stage == "conv" && scales.size() > 1)
      for (const auto& r : per_scale)
        fmt::print("  @{:<9.3g} {:>10.4f} {:>6.1f}%   ({:.0f} windows/image)\n",
                   r["scale"].get<float>(), r["conv"].get<double>(),
                   100 * r["conv"].get<double>() / total, r["windows"].get<double>());
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"spp_net: SPP-net -- conv once per image, spatial pyramid pooling per window, "
                       "fc fine-tuning, SVMs, box regression (lesson 04)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  TrainOptions topt;
  ProposalOptions po;
  cli::RegionDetectorCommands detect;

  cli::Command train = app.subcommand("train", "fine-tune the fc layers, train SVMs and box regressors");
  cli::add_common_flags(train, args);
  cli::add_proposal_flags(train, po);
  train.option("--pretrained", topt.pretrained, "classify model whose backbone to use");
  train.flag("--scratch", topt.scratch, "random (frozen) convs instead of --pretrained");
  train.option("--hidden", topt.hidden, "fc6 / fc7 width (the SVMs' feature dimension)")
      .range(1, 4096);
  train.option("--levels", topt.levels, "pyramid levels n (n x n bins each), e.g. 4 2 1")
      .range(1, 64);
  train.option("--scales", topt.scales,
               "image scale factors, each window pooled at the one whose scaled area is "
               "closest to --target-size^2 (default 1, one scale; SPP-net §4.2's five: "
               "0.7,0.84,1,1.26,1.74)")
      .delimiter(',');
  train.option("--target-size", topt.target_size,
               "side of the pretraining input windows are scaled towards (28)")
      .range(1.0f, 4096.0f);
  cli::add_region_train_flags(train, topt);

  cli::add_region_detector_commands(app, args, po, detect);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  if (train && topt.levels.empty()) {
    fmt::print(stderr, "error: --levels: give at least one level\n");
    return 2;
  }
  if (train) {  // §4.2 scales: positive, at most kMaxScale; kept sorted and distinct
    if (topt.scales.empty() || topt.scales.size() > 16) {
      fmt::print(stderr, "error: --scales: give 1 to 16 scale factors\n");
      return 2;
    }
    for (float s : topt.scales)
      if (!(s > 0 && s <= kMaxScale)) {
        fmt::print(stderr, "error: --scales: {} is not a scale factor in (0, {}]\n", s, kMaxScale);
        return 2;
      }
    std::sort(topt.scales.begin(), topt.scales.end());
    topt.scales.erase(std::unique(topt.scales.begin(), topt.scales.end()), topt.scales.end());
  }
  const DetectOptions dopt = detect.options();
  const std::string model_path = args.model.empty() ? kDefaultModel : args.model;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt, po);
    if (detect.eval)
      return cli::run_region_eval(args, po, detect, open_detector(model_path, dopt));
    if (detect.predict)
      return cli::run_region_predict(args, po, detect, "spp_net", open_detector(model_path, dopt));
    return cmd_bench(args, po, dopt, detect);
  });
}
