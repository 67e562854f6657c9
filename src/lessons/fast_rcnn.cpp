// Lesson 04: Fast R-CNN (Girshick, ICCV 2015). R-CNN runs a CNN once per warped
// proposal; Fast R-CNN runs the convolutional layers once per image, cuts every
// proposal's features out of the shared map with RoI max pooling, and trains the
// classifier and the class-specific box regressor together with one multitask loss.
//   bin/fast_rcnn train [--pretrained FILE | --scratch]   end to end on the train scenes
//   bin/fast_rcnn eval [--svd K]   VOC AP@0.5 per class + mAP, COCO AP on the test scenes;
//                                  with --svd also the truncated-SVD model (§3.1)
//   bin/fast_rcnn predict IMAGE...   detections drawn (PNG) and listed (JSON)
//   bin/fast_rcnn bench [--svd K]    seconds per image: proposals / conv / RoI pool / FC / NMS
// Proposals: Selective Search "fast" (lesson 03), cached on disk (data/cache/proposals).
#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/batching.h"
#include "data/detection_dataset.h"
#include "detection/box_coder.h"
#include "detection/nms.h"
#include "detection/roi_pool.h"
#include "eval/coco_eval.h"
#include "eval/voc_ap.h"
#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/model_file.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/stage_bench.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "models/fast_rcnn.h"
#include "models/localizer.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "proposals/proposal_cache.h"
#include "tensor/ops.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kProgram = "fast_rcnn";
const char* kDefaultModel = "data/models/fast_rcnn.safetensors";
const char* kDefaultPretrained = "data/models/classify.safetensors";



// ---- the model file -----------------------------------------------------------------------
struct LoadedModel {
  std::unique_ptr<models::FastRcnn> net;
  std::vector<std::string> classes;
};

LoadedModel load_model(const std::string& path) {
  const auto cfg = cli::read_model_config_as<models::FastRcnnConfig>(path, kProgram);
  LoadedModel m;
  m.classes = cli::read_model_names(path, "classes", cfg.num_classes - 1);
  m.net = cli::load_weights<models::FastRcnn>(path, cfg);
  return m;
}

// ---- detection: one image -------------------------------------------------------------------

struct StageTimes {
  double conv = 0, roi_pool = 0, fc = 0, nms = 0;
  double total() const { return conv + roi_pool + fc + nms; }
};

struct DetectOptions {
  float threshold = -1;  // -1: 0.05 for eval, 0.5 for predict
  double nms = 0.3;
  int max_detections = 100;
};

// §2.4 / §3: the conv layers once, RoI pooling of every proposal, the FC head; each
// proposal's class-k box is its class-k deltas applied to it; per-class NMS.
std::vector<Detection> detect(models::FastRcnn& net, const Image& img, const std::vector<Box>& props,
                              float threshold, double nms_iou, int max_det, StageTimes* t) {
  NoGradGuard no_grad;
  std::vector<Detection> out;
  StageTimes local;
  StageTimes& st = t ? *t : local;
  auto t0 = Clock::now();
  Tensor x = models::backbone_input(img);
  Var feat = net.features(Var(x.reshape({1, 3, img.height, img.width})));
  st.conv += seconds_since(t0);
  if (props.empty()) return out;
  const int64_t P = static_cast<int64_t>(props.size());
  t0 = Clock::now();
  Tensor rois({P, 5});
  for (int64_t i = 0; i < P; ++i) {
    rois[i * 5 + 1] = props[i].x1;
    rois[i * 5 + 2] = props[i].y1;
    rois[i * 5 + 3] = props[i].x2;
    rois[i * 5 + 4] = props[i].y2;
  }
  Var pooled = net.pool_rois(feat, rois);
  st.roi_pool += seconds_since(t0);
  t0 = Clock::now();
  models::FastRcnnOutput o = net.head(pooled);
  const int C = net.config.num_classes;
  Tensor probs({P, C});
  const Tensor& s = o.scores.value();
  for (int64_t i = 0; i < P; ++i) {  // softmax per RoI
    float m = s[i * C];
    for (int c = 1; c < C; ++c) m = std::max(m, s[i * C + c]);
    double z = 0;
    for (int c = 0; c < C; ++c) z += std::exp(double(s[i * C + c] - m));
    for (int c = 0; c < C; ++c) probs[i * C + c] = static_cast<float>(std::exp(double(s[i * C + c] - m)) / z);
  }
  st.fc += seconds_since(t0);
  t0 = Clock::now();
  const Tensor boxes = decode_deltas(o.deltas.value(), props, rcnn_box_coder());  // [P, 4K]
  std::vector<Box> cb;
  std::vector<float> cs;
  std::vector<int> cc;
  const int K = C - 1;
  for (int64_t i = 0; i < P; ++i)
    for (int k = 0; k < K; ++k) {
      const float p = probs[i * C + k + 1];
      if (p < threshold) continue;
      const float* b = boxes.data() + (i * K + k) * 4;
      const Box box = clip_box({b[0], b[1], b[2], b[3]}, float(img.width), float(img.height));
      if (box.width() <= 0 || box.height() <= 0) continue;
      cb.push_back(box);
      cs.push_back(p);
      cc.push_back(k);
    }
  const std::vector<int> keep = batched_nms(cb, cs, cc, nms_iou);
  for (size_t i = 0; i < keep.size() && static_cast<int>(i) < max_det; ++i)
    out.push_back({cb[keep[i]], cc[keep[i]], cs[keep[i]], {}, {}});
  st.nms += seconds_since(t0);
  return out;
}

// The shared evaluation (lessons/common/detection_eval.h) plus where Fast R-CNN's time
// goes. Proposals are computed beforehand (cached); their time is shared out evenly.
struct EvalResult {
  DetectionEval e;
  StageTimes times;  // summed over the images
  int64_t proposals = 0;
};

EvalResult evaluate(models::FastRcnn& net, const DetectionDataset& ds, const ProposalOptions& po,
                    const DetectOptions& d) {
  EvalResult r;
  const ProposalEval pe = evaluate_with_proposals(
      ds, po, [&](const DetectionItem& item, const std::vector<Box>& props) {
        const double before = r.times.total();
        std::vector<Detection> dets =
            detect(net, item.image, props, d.threshold, d.nms, d.max_detections, &r.times);
        return ImageResult{dets, r.times.total() - before, 0.0};
      });
  r.e = pe.eval;
  r.proposals = static_cast<int64_t>(std::lround(pe.proposals_per_image * std::max<size_t>(1, ds.items.size())));
  return r;
}

// ---- train ----------------------------------------------------------------------------
struct TrainOptions {
  std::string pretrained = kDefaultPretrained;
  bool scratch = false;
  int64_t limit = 0;
  int images_per_batch = 2;   // N (§2.3)
  int rois_per_batch = 128;   // R (§2.3: 64 per image); R = 64 gave 66.8 % mAP, 128 68.9 %
  float fg_fraction = 0.25f;
  float bg_lo = 0.1f;
  float lambda = 1.0f;
  bool flip = true;
  int val_images = 50;
  models::FastRcnnConfig model;
};

// One training batch: N images (mirrored with probability 1/2), R/N sampled RoIs each.
struct TrainBatch {
  Tensor images;       // [N, 3, H, W]
  Tensor rois;         // [R', 5]
  std::vector<int> labels;
  std::vector<BoxDelta> targets;
};

Box mirror(const Box& b, float W) { return {W - b.x2, b.y1, W - b.x1, b.y2}; }

TrainBatch make_train_batch(const DetectionDataset& ds, const std::vector<std::vector<Box>>& props,
                            const std::vector<int64_t>& idx, const TrainOptions& t, Rng rng) {
  const int N = static_cast<int>(idx.size());
  int H = 0, W = 0;
  for (int64_t i : idx) H = std::max(H, ds.items[i].image.height), W = std::max(W, ds.items[i].image.width);
  TrainBatch b;
  b.images = Tensor({N, 3, H, W});  // zero = the mean colour where images are smaller
  models::RoiSamplingConfig sc;
  sc.rois_per_image = t.rois_per_batch / N;
  sc.fg_fraction = t.fg_fraction;
  sc.bg_iou_lo = t.bg_lo;
  std::vector<float> rois;
  for (int n = 0; n < N; ++n) {
    const DetectionItem& item = ds.items[idx[n]];
    const bool flip = t.flip && rng.bernoulli(0.5f);
    const int h = item.image.height, w = item.image.width;
    const Tensor x = models::backbone_input(item.image, flip);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        std::copy(x.data() + (int64_t(c) * h + y) * w, x.data() + (int64_t(c) * h + y) * w + w,
                  b.images.data() + ((int64_t(n) * 3 + c) * H + y) * W);
    std::vector<Box> p = props[idx[n]], g = item.boxes;
    if (flip) {
      for (Box& q : p) q = mirror(q, float(w));
      for (Box& q : g) q = mirror(q, float(w));
    }
    models::RoiSample s = models::sample_rois(p, g, item.labels, sc, rcnn_box_coder(), rng);
    for (size_t i = 0; i < s.rois.size(); ++i) {
      rois.insert(rois.end(), {float(n), s.rois[i].x1, s.rois[i].y1, s.rois[i].x2, s.rois[i].y2});
      b.labels.push_back(s.labels[i]);
      b.targets.push_back(s.targets[i]);
    }
  }
  const int64_t R = static_cast<int64_t>(b.labels.size());
  b.rois = Tensor({R, 5});
  std::copy(rois.begin(), rois.end(), b.rois.begin());
  return b;
}

int cmd_train(cli::CommonArgs a, TrainOptions t, const ProposalOptions& po) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  if (a.epochs < 0) a.epochs = 8;  // ~5 min on 2 threads; val mAP plateaus from epoch 4-6
  if (a.batch > 0) t.images_per_batch = a.batch;
  a.batch = t.images_per_batch;
  if (a.lr < 0) a.lr = 1e-3f;
  if (t.rois_per_batch < t.images_per_batch)
    throw std::invalid_argument(fmt::format("--rois {} is fewer than one per image (--batch {})",
                                            t.rois_per_batch, t.images_per_batch));
  const auto t_start = Clock::now();

  // 1. data and proposals (computed once, then read from the cache)
  DetectionDataset train = load_detection_dataset(cli::scenes_split_dir(a, "train"), t.limit);
  DetectionDataset val = load_detection_dataset(cli::scenes_split_dir(a, "test"), t.val_images);
  if (train.items.empty()) throw FileError(train.dir, "the training set has no images");
  auto tp = Clock::now();
  const auto train_props = dataset_proposals(train, po);
  dataset_proposals(val, po);  // into the cache, so each epoch's validation only reads it
  const double proposal_seconds = seconds_since(tp);
  if (!a.quiet) {
    int64_t n = 0;
    for (const auto& p : train_props) n += static_cast<int64_t>(p.size());
    fmt::print(stderr, "proposals: {:.0f}/image on {} train scenes ({:.1f} s, cache {})\n",
               double(n) / train.items.size(), train.items.size(), proposal_seconds,
               po.cache_dir.empty() ? "off" : po.cache_dir);
  }

  // 2. model: lesson 00's backbone, a new neck and head
  Rng rng(a.seed);
  models::FastRcnnConfig cfg = t.model;
  cfg.num_classes = static_cast<int>(train.class_names.size()) + 1;
  models::FastRcnn model(cfg, rng);
  std::string init = "scratch";
  if (!t.scratch) {
    const int loaded = models::load_grey_backbone(t.pretrained, model);
    init = t.pretrained;
    if (!a.quiet) fmt::print(stderr, "backbone: {} tensors from {}\n", loaded, t.pretrained);
  }
  if (!a.quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));

  // 3. AdamW with warm-up and cosine decay (the paper: SGD, 30k + 10k iterations)
  nn::Adam opt = nn::AdamW(model.parameters(), a.lr, 1e-4f);
  const int64_t n_images = static_cast<int64_t>(train.items.size());
  const int64_t steps = (n_images + t.images_per_batch - 1) / t.images_per_batch;
  nn::LrSchedule sched;
  sched.kind = nn::LrSchedule::Kind::Cosine;
  sched.base_lr = a.lr;
  sched.total = static_cast<int>(steps * a.epochs);
  sched.warmup = static_cast<int>(std::min<int64_t>(100, steps));

  // 4. train: each step N images in a shuffled order, R / N RoIs from each
  std::vector<int64_t> order;
  double sum_cls = 0, sum_loc = 0;
  int64_t n_steps = 0, fg = 0, rois_seen = 0;
  auto step = [&](int epoch, int64_t s, int64_t global) {
    if (s == 0) {
      Rng shuffle = Rng(a.seed).fork(100 + epoch);
      order = shuffled_indices(n_images, shuffle);
      sum_cls = sum_loc = 0;
      n_steps = fg = rois_seen = 0;
    }
    std::vector<int64_t> idx;
    for (int n = 0; n < t.images_per_batch; ++n)
      idx.push_back(order[(s * t.images_per_batch + n) % n_images]);
    TrainBatch b = make_train_batch(train, train_props, idx, t,
                                    Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global)));
    if (b.labels.empty()) return cli::StepResult{0.0, t.images_per_batch, -1};
    opt.set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
    models::FastRcnnOutput o = model.predict(Var(b.images), b.rois);
    models::FastRcnnLoss L = models::fast_rcnn_loss(o.scores, o.deltas, b.labels, b.targets, t.lambda);
    opt.zero_grad();
    L.total.backward();
    opt.step();
    sum_cls += L.classification.item();
    sum_loc += L.localization.item();
    ++n_steps;
    for (int l : b.labels) fg += l > 0;
    rois_seen += static_cast<int64_t>(b.labels.size());
    return cli::StepResult{L.total.item(), t.images_per_batch, -1};
  };
  double last_map = 0;
  auto epoch_end = [&](cli::EpochLog& log) {
    log.metrics["train_cls_loss"] = n_steps ? sum_cls / n_steps : 0;
    log.metrics["train_box_loss"] = n_steps ? sum_loc / n_steps : 0;
    log.metrics["fg_fraction"] = rois_seen ? double(fg) / rois_seen : 0;
    model.eval();
    DetectOptions d;
    d.threshold = 0.05f;
    last_map = evaluate(model, val, po, d).e.voc_map50;
    model.train();
    log.metrics["val_map50"] = last_map;
  };
  const auto t0 = Clock::now();
  auto logs = cli::train_loop({a.epochs, steps, a.quiet}, step, epoch_end,
                              [&](int e) { return sched.at(static_cast<int>(e * steps)); });
  const double train_seconds = seconds_since(t0), total_seconds = seconds_since(t_start);

  // 5. save
  json args = {{"epochs", a.epochs},
               {"images_per_batch", t.images_per_batch},
               {"rois_per_batch", t.rois_per_batch},
               {"fg_fraction", t.fg_fraction},
               {"bg_iou_lo", t.bg_lo},
               {"lambda", t.lambda},
               {"flip", t.flip},
               {"lr", a.lr},
               {"seed", a.seed},
               {"init", init},
               {"train_images", train.items.size()},
               {"proposals", po.preset},
               {"max_proposals", po.max_proposals},
               {"box_coder_weights", {10, 10, 5, 5}}};
  nn::save_checkpoint(model_path, model,
                      {{"config", cfg.to_json()},
                       {"classes", json(train.class_names).dump()},
                       {"train_args", args.dump()},
                       {"val_map50", fmt::format("{:.4f}", last_map)}});
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  cli::write_training_logs(stem, logs, "fast_rcnn (" + init + ")");
  // Wall times live beside the model, not in it: the model file stays bit-identical.
  write_file_atomic(stem + ".train.json", json({{"train_seconds", total_seconds},
                                                {"training_loop_seconds", train_seconds},
                                                {"proposal_seconds", proposal_seconds}})
                                              .dump(2) + "\n");
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path},
                             {"val_map50", last_map},
                             {"val_images", val.items.size()},
                             {"train_seconds", train_seconds},
                             {"proposal_seconds", proposal_seconds},
                             {"total_seconds", total_seconds},
                             {"epochs", a.epochs},
                             {"final_loss", logs.empty() ? 0.0 : logs.back().train_loss},
                             {"first_loss", logs.empty() ? 0.0 : logs.front().train_loss},
                             {"init", init}})
                           .dump());
  } else {
    fmt::print("val VOC mAP@0.5 {:.1f}% on {} test scenes after {} epochs; training {:.1f} s "
               "(+ {:.1f} s proposals/loading)\n",
               100 * last_map, val.items.size(), a.epochs, train_seconds,
               total_seconds - train_seconds);
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", model_path, stem, stem);
  }
  return 0;
}

// ---- eval ------------------------------------------------------------------------------
struct SvdOptions {
  int fc6 = 0, fc7 = -1;  // ranks; fc7 -1: fc6 / 4 (the paper kept 1024 of fc6, 256 of fc7)
  int fc7_rank() const { return fc7 >= 0 ? fc7 : std::max(1, fc6 / 4); }
};

json eval_json(const EvalResult& r, const DetectionDataset& ds) {
  const double n = std::max<size_t>(1, ds.items.size());
  json j = detection_eval_json(r.e, ds.class_names);
  j["proposals_per_image"] = r.proposals / n;
  j["seconds_per_image_without_proposals"] = r.times.total() / n;
  j["fc_seconds_per_image"] = r.times.fc / n;
  return j;
}

int cmd_eval(const cli::CommonArgs& a, const ProposalOptions& po, DetectOptions d,
             const SvdOptions& svd, int64_t limit) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  LoadedModel m = load_model(model_path);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), limit);
  if (d.threshold < 0) d.threshold = 0.05f;
  const EvalResult r = evaluate(*m.net, test, po, d);
  EvalResult rs;
  if (svd.fc6 > 0) {
    m.net->compress_fc(svd.fc6, svd.fc7_rank());
    rs = evaluate(*m.net, test, po, d);
  }
  const double n = std::max<size_t>(1, test.items.size());
  if (a.json) {
    json j = eval_json(r, test);
    if (svd.fc6 > 0) {
      j["svd"] = eval_json(rs, test);
      j["svd"]["fc6_rank"] = svd.fc6;
      j["svd"]["fc7_rank"] = svd.fc7_rank();
    }
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{:<12} {:>7} {:>9}{}\n", "class", "objects", "VOC AP50",
             svd.fc6 > 0 ? fmt::format(" {:>9}", "SVD AP50") : "");
  for (size_t c = 0; c < r.e.voc.size() && c < test.class_names.size(); ++c)
    fmt::print("{:<12} {:>7} {:>8.1f}%{}\n", test.class_names[c], r.e.voc[c].num_gt,
               100 * r.e.voc[c].ap, svd.fc6 > 0 ? fmt::format(" {:>8.1f}%", 100 * rs.e.voc[c].ap) : "");
  fmt::print("{:<12} {:>7} {:>8.1f}%{}   (VOC mAP, all-point AP at IoU 0.5)\n\n", "mean", "",
             100 * r.e.voc_map50, svd.fc6 > 0 ? fmt::format(" {:>8.1f}%", 100 * rs.e.voc_map50) : "");
  fmt::print("{}\n", coco_summary(r.e.coco));
  fmt::print("{} images, {:.0f} proposals/image ({} preset): {:.4f} s/image excluding proposals "
             "(conv {:.4f}, RoI pool {:.4f}, FC {:.4f}, NMS {:.4f})\n",
             test.items.size(), r.proposals / n, po.preset, r.times.total() / n, r.times.conv / n,
             r.times.roi_pool / n, r.times.fc / n, r.times.nms / n);
  if (svd.fc6 > 0)
    fmt::print("truncated SVD (fc6 rank {}, fc7 rank {}): mAP {:.1f}% ({:+.1f} points), COCO AP "
               "{:.3f} ({:+.3f}), FC {:.4f} -> {:.4f} s/image ({:.2f}x), total {:.4f} s/image\n",
               svd.fc6, svd.fc7_rank(), 100 * rs.e.voc_map50, 100 * (rs.e.voc_map50 - r.e.voc_map50),
               rs.e.coco.stats[0], rs.e.coco.stats[0] - r.e.coco.stats[0], r.times.fc / n,
               rs.times.fc / n, r.times.fc / std::max(1e-12, rs.times.fc), rs.times.total() / n);
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const ProposalOptions& po, DetectOptions d,
                const SvdOptions& svd, const std::vector<std::string>& images) {
  LoadedModel m = load_model(a.model.empty() ? kDefaultModel : a.model);
  if (svd.fc6 > 0) m.net->compress_fc(svd.fc6, svd.fc7_rank());
  if (d.threshold < 0) d.threshold = 0.5f;
  const cli::PredictSettings s{"fast_rcnn", cli::predictions_dir(a), m.classes,
                               "class score", d.threshold, a.json};
  return cli::predict_with_proposals(images, po, s, [&](const Image& img, const std::vector<Box>& props) {
    StageTimes st;
    std::vector<Detection> dets = detect(*m.net, img, props, d.threshold, d.nms, d.max_detections, &st);
    return ImageResult{std::move(dets), st.total(), 0.0};
  });
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, ProposalOptions po, const SvdOptions& svd,
              const std::vector<std::string>& paths, int64_t limit, bool cached) {
  std::unique_ptr<models::FastRcnn> net;
  if (const std::string path = cli::bench_model_file(a, kDefaultModel); !path.empty()) {
    net = std::move(load_model(path).net);
  } else {
    Rng rng(a.seed);
    models::FastRcnnConfig cfg;
    cfg.num_classes = 11;
    net = std::make_unique<models::FastRcnn>(cfg, rng);
    net->eval();
  }
  const std::vector<cli::BenchImage> images = cli::bench_images(a, paths, limit, 10);
  // Proposals: Selective Search computed afresh (the cache would time a file read)
  // unless --cached.
  std::vector<std::vector<Box>> props;
  double t_props = 0;
  for (const auto& [name, img] : images) {
    const auto t0 = Clock::now();
    props.push_back(proposals_of(img, po, cached));
    t_props += seconds_since(t0);
  }
  // Score threshold 0.05 as in eval, so NMS sees the boxes it sees there.
  auto run = [&](StageTimes& st) {
    for (size_t i = 0; i < images.size(); ++i)
      detect(*net, images[i].image, props[i], 0.05f, 0.3, 100, &st);
  };
  StageTimes warm, full, comp;
  run(warm);  // first-touch allocations
  run(full);
  if (svd.fc6 > 0) {
    net->compress_fc(svd.fc6, svd.fc7_rank());
    run(warm);
    run(comp);
  }
  const double n = static_cast<double>(images.size());
  int64_t nprops = 0;
  for (const auto& p : props) nprops += static_cast<int64_t>(p.size());
  auto stage_json = [&](const StageTimes& s) {
    return json({{"conv", s.conv / n},
                 {"roi_pool", s.roi_pool / n},
                 {"fc", s.fc / n},
                 {"nms", s.nms / n},
                 {"without_proposals", s.total() / n},
                 {"total", (s.total() + t_props) / n}});
  };
  if (a.json) {
    json j = {{"images", images.size()},
              {"proposals_per_image", nprops / n},
              {"proposal_preset", po.preset},
              {"proposals_cached", cached},
              {"seconds_per_image", stage_json(full)}};
    j["seconds_per_image"]["proposals"] = t_props / n;
    if (svd.fc6 > 0) {
      j["svd"] = stage_json(comp);
      j["svd"]["proposals"] = t_props / n;
      j["svd"]["fc6_rank"] = svd.fc6;
      j["svd"]["fc7_rank"] = svd.fc7_rank();
      j["svd"]["fc_speedup"] = full.fc / std::max(1e-12, comp.fc);
    }
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{} images, {:.0f} proposals/image ({} preset{})\n", images.size(), nprops / n,
             po.preset, cached ? ", from cache" : "");
  fmt::print("{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12} {:>10}\n", "model", "proposals",
             "conv", "RoI pool", "FC", "NMS", "total-props", "total");
  auto row = [&](const char* name, const StageTimes& s) {
    fmt::print("{:<10} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>12.4f} {:>10.4f}\n",
               name, t_props / n, s.conv / n, s.roi_pool / n, s.fc / n, s.nms / n, s.total() / n,
               (s.total() + t_props) / n);
  };
  row("full", full);
  if (svd.fc6 > 0) {
    row(fmt::format("svd {}/{}", svd.fc6, svd.fc7_rank()).c_str(), comp);
    fmt::print("truncated SVD: FC {:.2f}x faster, total excluding proposals {:.2f}x\n",
               full.fc / std::max(1e-12, comp.fc), full.total() / std::max(1e-12, comp.total()));
  }
  fmt::print("(seconds per image)\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"fast_rcnn: shared conv features, RoI pooling, multitask loss (lesson 04)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  TrainOptions topt;
  ProposalOptions po;
  DetectOptions dopt;
  SvdOptions svd;
  int64_t limit = 0;
  bool cached = false;
  std::vector<std::string> images;

  auto add_svd = [&](cli::Command& sub) {
    sub.option("--svd", svd.fc6, "truncated SVD of fc6 with this rank (§3.1; 0 = off)")
        .range(0, 65536);
    sub.option("--svd-fc7", svd.fc7, "rank for fc7 (default: --svd / 4)")
        .range(1, 65536);
  };
  auto add_detect = [&](cli::Command& sub, const char* what) {
    sub.option("--threshold", dopt.threshold, what).range(0.0f, 1.0f);
    sub.option("--nms", dopt.nms, "per-class NMS IoU").range(0.0, 1.0);
  };

  cli::Command train = app.subcommand("train", "train end to end on the train scenes");
  cli::add_common_flags(train, args);
  cli::add_proposal_flags(train, po);
  train.option("--pretrained", topt.pretrained, "classify model whose backbone to start from");
  train.flag("--scratch", topt.scratch, "random initial weights instead of --pretrained");
  train.option("--limit", topt.limit, "use this many train scenes only")
      .range(int64_t(1), int64_t(10000000));
  train.option("--val-images", topt.val_images, "test scenes for the per-epoch mAP")
      .range(1, 100000);
  train.option("--rois", topt.rois_per_batch, "RoIs per mini-batch R (--batch is N images)")
      .range(1, 100000);
  train.option("--fg-fraction", topt.fg_fraction, "foreground share of the RoIs")
      .range(0.0f, 1.0f);
  train.option("--bg-lo", topt.bg_lo, "lowest IoU of a background RoI")
      .range(0.0f, 0.5f);
  train.option("--lambda", topt.lambda, "weight of the box loss").range(0.0f, 1e6f);
  train.flag("!--no-flip", topt.flip, "no horizontal flipping");
  train.option("--pool", topt.model.pool, "RoI pooling grid side").range(1, 32);
  train.option("--hidden", topt.model.hidden, "fc6 / fc7 width").range(1, 16384);
  train.option("--neck-channels", topt.model.c3, "channels of the neck conv")
      .range(1, 1024);
  train.option("--dropout", topt.model.dropout, "dropout after fc6 and fc7")
      .range(0.0f, 0.95f);

  cli::Command eval = app.subcommand("eval", "VOC AP@0.5 and COCO AP on the test scenes");
  cli::add_common_flags(eval, args);
  cli::add_proposal_flags(eval, po);
  add_detect(eval, "lowest class score kept (default 0.05)");
  add_svd(eval);
  eval.option("--limit", limit, "evaluate this many scenes only")
      .range(int64_t(1), int64_t(10000000));

  cli::Command predict = app.subcommand("predict", "draw detections on images (PNG + JSON)");
  cli::add_common_flags(predict, args);
  cli::add_proposal_flags(predict, po);
  add_detect(predict, "lowest class score drawn (default 0.5)");
  add_svd(predict);
  predict.option("images", images, "PNG/JPEG/BMP files").required();

  cli::Command bench = app.subcommand("bench", "seconds per image by stage");
  cli::add_common_flags(bench, args);
  cli::add_proposal_flags(bench, po);
  add_svd(bench);
  bench.option("--limit", limit, "test scenes to time when no IMAGE is given (default 10)")
      .range(int64_t(1), int64_t(100000));
  bench.flag("--cached", cached, "read proposals from the cache instead of timing them");
  bench.option("images", images, "PNG/JPEG/BMP files (default: test scenes)");

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt, po);
    if (eval) return cmd_eval(args, po, dopt, svd, limit);
    if (predict) return cmd_predict(args, po, dopt, svd, images);
    return cmd_bench(args, po, svd, images, limit, cached);
  });
}
