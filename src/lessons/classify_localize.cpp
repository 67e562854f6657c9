// Lesson 01: classification + localization. One object per image; the network
// answers "what" (class scores, softmax loss) and "where" (a box, L2 loss) from one
// shared feature vector, trained with the multitask loss  L = CE + lambda * L2.
//   bin/classify_localize train [--pretrained FILE | --scratch] [--lambda L]
//   bin/classify_localize eval       accuracy, mean IoU, localization accuracy per class
//   bin/classify_localize predict IMAGE...   box + class + score drawn on the image
//   bin/classify_localize bench      images/s for inference and training
// Data: training scenes generated on the fly (data/online_scenes.h; or the fixed
// `bin/datagen scenes --single` files with --train-scenes files), tested on the fixed
// test directory (see lessons/01).
#include <fmt/core.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/batching.h"
#include "data/detection_dataset.h"
#include "data/online_scenes.h"
#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "lessons/common/bench.h"
#include "lessons/common/cli.h"
#include "lessons/common/model_file.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "models/localizer.h"
#include "models/multitask_loss.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/classify_localize.safetensors";
const char* kDefaultData = "data/generated/single";
const char* kDefaultPretrained = "data/models/classify.safetensors";
// The lesson's data: large single objects (ImageNet-localization-like), see lessons/01.
const char* kSceneFlags = "--min-scale 40 --max-scale 112";
const float kMinScale = 40, kMaxScale = 112;  // the same, for the online training scenes

struct TrainOptions {
  std::string pretrained = kDefaultPretrained;
  bool scratch = false;
  float lambda = 5.0f;
  bool freeze_backbone = false;
  int64_t limit = 0;
  std::string optim = "adamw";
  int neck_channels = 64;
  // Lesson 00's backbone widths; others need --scratch (the pretrained weights do not fit).
  std::vector<int> backbone_channels = {16, 32};
  int input_size = 32;
  std::string cls_input = "fc";
  // No dropout by default: fresh scenes every step leave nothing to memorise (0.2
  // against the fixed 12,000 files).
  float dropout = 0.0f;
  // "online": a fresh generated scene for every training step (data/online_scenes.h);
  // "files": the fixed scenes in DATA/train, shuffled each epoch.
  std::string train_scenes = "online";
};

// ---- data: images -> normalised [B, 3, S, S]; targets: class, (cx, cy, w, h) / S ----
// The pixel normalisation of lesson 00 on every channel, so the transferred grey
// filters see inputs in the range they were trained on.
struct Batch {
  Tensor images, labels, boxes;
};

// The image shrunk to S x S. When S divides the (square) image's side -- the 128 x 128
// scenes at S = 32 or 64 -- each input pixel is the mean of its k x k block: plain
// bilinear sampling at a 4x reduction reads only the middle 2 x 2 of every 4 x 4
// block, so thin parts of an item flicker in and out (aliasing) and the scenes' pixel
// noise passes through. Other sizes (photos) are resized bilinearly.
Tensor image_input(const Image& img, int size) {
  Tensor t;
  if (img.channels == 3 && img.width == img.height && img.width > size &&
      img.width % size == 0) {
    const int k = img.width / size;
    const float scale = 1.0f / (255.0f * k * k);
    t = Tensor({3, size, size});
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          int sum = 0;
          for (int dy = 0; dy < k; ++dy)
            for (int dx = 0; dx < k; ++dx) sum += img.at(x * k + dx, y * k + dy, c);
          t[(c * size + y) * size + x] = sum * scale;
        }
  } else {
    t = image_to_tensor(
        (img.width == size && img.height == size) ? img : resize_bilinear(img, size, size));
  }
  normalize_channels_(t, {kFashionMean, kFashionMean, kFashionMean},
                      {kFashionStd, kFashionStd, kFashionStd});
  return t;
}

// The object of a single-object image: its largest box (datagen --single has one).
int main_object(const DetectionItem& item) {
  int best = -1;
  for (size_t i = 0; i < item.boxes.size(); ++i)
    if (best < 0 || box_area(item.boxes[i]) > box_area(item.boxes[best])) best = static_cast<int>(i);
  return best;
}

// Items order[start, start+size), each from `get` (a file's scene or a freshly
// generated one). Augmentation: a horizontal flip with probability 1/2, from a
// per-item Rng fork (mirrors the box too).
template <class Get>
Batch make_batch(Get&& get, const std::vector<int64_t>& order, int64_t start, int64_t size,
                 int input, const Rng* flip_rng) {
  const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order.size()) - start);
  Batch b{Tensor({n, 3, input, input}), Tensor({n}), Tensor({n, 4})};
  const int64_t plane = 3LL * input * input;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const auto& item = get(order[start + i]);
    const int k = main_object(item);
    Box box = k >= 0 ? item.boxes[k] : Box{};
    Tensor x = image_input(item.image, input);
    const float sx = float(input) / item.image.width, sy = float(input) / item.image.height;
    box = {box.x1 * sx, box.y1 * sy, box.x2 * sx, box.y2 * sy};
    bool flip = false;
    if (flip_rng) {
      Rng r = flip_rng->fork(static_cast<uint64_t>(order[start + i]));
      flip = r.bernoulli(0.5f);
    }
    float* dst = b.images.data() + i * plane;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < input; ++y)
        for (int xx = 0; xx < input; ++xx) {
          const int src_x = flip ? input - 1 - xx : xx;
          dst[(c * input + y) * input + xx] = x[(c * input + y) * input + src_x];
        }
    if (flip) box = {input - box.x2, box.y1, input - box.x1, box.y2};
    b.labels[i] = static_cast<float>(k >= 0 ? item.labels[k] : 0);
    const float t[4] = {box.cx() / input, box.cy() / input, box.width() / input,
                        box.height() / input};
    for (int j = 0; j < 4; ++j) b.boxes[i * 4 + j] = t[j];
  }
  return b;
}

// Normalised (cx, cy, w, h) -> pixel box in an image of the given size.
Box to_pixels(const float* t, float width, float height) {
  return box_from({t[0] * width, t[1] * height, t[2] * width, t[3] * height}, BoxFormat::CXCYWH);
}

// ---- evaluation: classification accuracy, box IoU, localization accuracy ----
struct ClassStats {
  int64_t images = 0, correct = 0, localized = 0;
  double iou = 0;
};
// Object size buckets (sqrt of the true box's area, in scene pixels): shows whether
// small items (few input pixels) or the classes themselves are what fails.
const std::vector<float> kSizeEdges = {32, 48, 64, 80};
int size_bucket(float side) {
  int b = 0;
  while (b < static_cast<int>(kSizeEdges.size()) && side >= kSizeEdges[b]) ++b;
  return b;
}
std::string size_bucket_name(int b) {
  const int n = static_cast<int>(kSizeEdges.size());
  if (b == 0) return fmt::format("< {:.0f} px", kSizeEdges[0]);
  if (b == n) return fmt::format(">= {:.0f} px", kSizeEdges[n - 1]);
  return fmt::format("{:.0f}-{:.0f} px", kSizeEdges[b - 1], kSizeEdges[b]);
}

struct Evaluation {
  std::vector<ClassStats> per_class;
  std::vector<ClassStats> per_size = std::vector<ClassStats>(kSizeEdges.size() + 1);
  double loss_cls = 0, loss_box = 0;
  ClassStats total;
  double accuracy() const { return total.images ? double(total.correct) / total.images : 0; }
  double mean_iou() const { return total.images ? total.iou / total.images : 0; }
  double loc_accuracy() const {
    return total.images ? double(total.localized) / total.images : 0;
  }
};

Evaluation evaluate(models::Localizer& model, const DetectionDataset& ds, int batch) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Evaluation ev;
  ev.per_class.resize(ds.class_names.size());
  const int S = model.config.input_size;
  std::vector<int64_t> order(ds.items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  for (size_t s = 0; s < order.size(); s += batch) {
    Batch b = make_batch([&ds](int64_t k) -> const DetectionItem& { return ds.items[k]; }, order,
                         static_cast<int64_t>(s), batch, S, nullptr);
    models::LocalizerOutput out = model.predict(Var(b.images));
    ev.loss_cls +=
        ag::cross_entropy(out.scores, b.labels, Tensor(), -100, ag::Reduction::Sum).item();
    ev.loss_box += ag::mse(out.box, b.boxes, ag::Reduction::Sum).item();
    Tensor pred = argmax(out.scores.value(), 1);
    for (int64_t i = 0; i < pred.numel(); ++i) {
      const int truth = static_cast<int>(b.labels[i]);
      const bool correct = static_cast<int>(pred[i]) == truth;
      const float iou = box_iou(to_pixels(out.box.value().data() + 4 * i, 1, 1),
                                to_pixels(b.boxes.data() + 4 * i, 1, 1));
      const Image& im = ds.items[s + i].image;
      const float side = std::sqrt(b.boxes[4 * i + 2] * im.width * b.boxes[4 * i + 3] * im.height);
      for (ClassStats* c : {&ev.per_class[truth], &ev.per_size[size_bucket(side)], &ev.total}) {
        c->images++;
        c->correct += correct;
        c->localized += correct && iou >= 0.5f;
        c->iou += iou;
      }
    }
  }
  ev.loss_cls /= std::max<int64_t>(1, ev.total.images);
  ev.loss_box /= std::max<int64_t>(1, ev.total.images);
  model.train(was_training);
  return ev;
}

std::unique_ptr<models::Localizer> load_model(const std::string& path) {
  return cli::load_weights<models::Localizer>(
      path, cli::read_model_config_as<models::LocalizerConfig>(path, "classify_localize"));
}

// The generated single-object set lives in DATA/train and DATA/test.
std::string split_dir(const cli::CommonArgs& a, const char* split) {
  const std::string dir = (fs::path(a.data.empty() ? kDefaultData : a.data) / split).string();
  if (a.data.empty() && !fs::exists(dir))
    throw FileError(dir, fmt::format("no such dataset directory; make it with `bin/datagen scenes "
                                     "--single {} --count {} --split {} --seed {} --out {}` (lessons/01)",
                                     kSceneFlags, split[1] == 'r' ? 12000 : 2000, split,
                                     split[1] == 'r' ? 1 : 2, dir));
  return dir;
}

int cmd_train(cli::CommonArgs a, const TrainOptions& t) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  if (a.epochs < 0) a.epochs = 16;
  if (a.batch < 0) a.batch = 32;
  if (a.lr < 0) a.lr = t.optim == "sgd" ? 0.02f : 4e-3f;

  // 1. data: fresh scenes of the train split's items (or the fixed files); the fixed
  // test scenes of the test split's items.
  const bool online = t.train_scenes == "online";
  DetectionDataset test = load_detection_dataset(split_dir(a, "test"));
  DetectionDataset train;
  OnlineScenes gen;
  int64_t n = 0;
  if (online) {
    gen.options.single = true;
    gen.options.min_scale = kMinScale;
    gen.options.max_scale = kMaxScale;
    gen.options.split = "train";
    gen.options.seed = a.seed;
    gen = make_online_scenes(gen.options);
    train.class_names = fashion_mnist_classes();
    n = t.limit > 0 ? t.limit : 12000;
  } else {
    train = load_detection_dataset(split_dir(a, "train"), t.limit);
    n = static_cast<int64_t>(train.items.size());
    if (n == 0) throw FileError(train.dir, "the training set has no images");
  }
  if (train.class_names != test.class_names)
    throw FileError(test.dir, "its classes are not the Fashion-MNIST ten of the training scenes");

  // 2. model: lesson 00's backbone (transfer learning) or random weights
  Rng rng(a.seed);
  models::LocalizerConfig cfg;
  cfg.num_classes = static_cast<int>(train.class_names.size());
  cfg.c1 = t.backbone_channels[0];
  cfg.c2 = t.backbone_channels[1];
  cfg.c3 = cfg.c4 = t.neck_channels;
  cfg.input_size = t.input_size;
  cfg.cls_input = t.cls_input;
  cfg.dropout = t.dropout;
  models::Localizer model(cfg, rng);
  std::string init = "scratch";
  if (!t.scratch) {
    const int loaded = models::load_grey_backbone(t.pretrained, model);
    init = t.pretrained;
    if (!a.quiet) fmt::print(stderr, "backbone: {} tensors from {}\n", loaded, t.pretrained);
  }
  if (t.freeze_backbone) model.backbone->set_requires_grad(false);
  if (!a.quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));

  // 3. loss L = CE(scores, class) + lambda * ||box - target||^2, SGD with a cosine LR
  std::unique_ptr<nn::Optimizer> opt;
  if (t.optim == "sgd")
    opt = std::make_unique<nn::Sgd>(model.parameters(), a.lr,
                                    nn::SgdOptions{0.9f, 0.0f, 5e-4f, true});
  else
    opt = std::make_unique<nn::Adam>(nn::AdamW(model.parameters(), a.lr, 0.05f));
  const int64_t steps = (n + a.batch - 1) / a.batch;
  nn::LrSchedule sched;
  sched.kind = nn::LrSchedule::Kind::Cosine;
  sched.base_lr = a.lr;
  sched.total = static_cast<int>(steps * a.epochs);
  sched.warmup = static_cast<int>(std::min<int64_t>(100, steps));

  // 4. train
  std::vector<int64_t> order;
  Rng flip_rng;
  auto step = [&](int epoch, int64_t s, int64_t global) {
    if (s == 0 && online) {  // scenes epoch*n .. epoch*n + n - 1: never seen before
      order.resize(n);
      for (int64_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(epoch) * n + i;
    } else if (s == 0) {
      Rng shuffle = Rng(a.seed).fork(100 + epoch);
      order = shuffled_indices(n, shuffle);
      flip_rng = Rng(a.seed).fork(10000 + epoch);
    }
    opt->set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
    // (generated scenes are already mirrored at random: no flip for them)
    Batch b = online ? make_batch([&gen](int64_t k) { return online_scene(gen, k); }, order,
                                  s * a.batch, a.batch, cfg.input_size, nullptr)
                     : make_batch([&train](int64_t k) -> const DetectionItem& {
                         return train.items[k];
                       }, order, s * a.batch, a.batch, cfg.input_size, &flip_rng);
    models::LocalizerOutput out = model.predict(Var(b.images));
    Var loss = classify_localize_loss(out.scores, b.labels, out.box, b.boxes, t.lambda).total;
    opt->zero_grad();
    loss.backward();
    opt->step();
    Tensor pred = argmax(out.scores.value(), 1);
    int64_t correct = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) correct += pred[i] == b.labels[i];
    return cli::StepResult{loss.item(), b.labels.numel(), correct};
  };
  Evaluation last;
  auto epoch_end = [&](cli::EpochLog& log) {
    last = evaluate(model, test, 100);
    log.metrics["test_acc"] = last.accuracy();
    log.metrics["test_mean_iou"] = last.mean_iou();
    log.metrics["test_loc_acc"] = last.loc_accuracy();
  };
  const auto t0 = Clock::now();
  auto logs = cli::train_loop({a.epochs, steps, a.quiet}, step, epoch_end,
                              [&](int e) { return sched.at(static_cast<int>(e * steps)); });
  const double seconds = seconds_since(t0);

  // 5. save model + logs
  json args = {{"epochs", a.epochs}, {"batch", a.batch},   {"lr", a.lr},
               {"seed", a.seed},     {"lambda", t.lambda}, {"init", init},
               {"train_images", n},  {"freeze_backbone", t.freeze_backbone},
               {"train_scenes", t.train_scenes}};
  nn::save_checkpoint(model_path, model,
                      {{"config", cfg.to_json()},
                       {"classes", json(train.class_names).dump()},
                       {"train_args", args.dump()},
                       {"test_accuracy", fmt::format("{:.4f}", last.accuracy())},
                       {"test_mean_iou", fmt::format("{:.4f}", last.mean_iou())}});
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  cli::write_training_logs(stem, logs, "classify_localize (" + init + ")");
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path},
                             {"accuracy", last.accuracy()},
                             {"mean_iou", last.mean_iou()},
                             {"localization_accuracy", last.loc_accuracy()},
                             {"seconds", seconds},
                             {"init", init}})
                           .dump());
  } else {
    fmt::print(
        "test: accuracy {:.2f}%, mean IoU {:.3f}, localization accuracy {:.2f}% "
        "({} images) after {} epochs, {:.1f} s\n",
        100 * last.accuracy(), last.mean_iou(), 100 * last.loc_accuracy(), last.total.images,
        a.epochs, seconds);
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", model_path, stem, stem);
  }
  return 0;
}

int cmd_eval(const cli::CommonArgs& a) {
  auto model = load_model(a.model.empty() ? kDefaultModel : a.model);
  DetectionDataset test = load_detection_dataset(split_dir(a, "test"));
  Evaluation ev = evaluate(*model, test, a.batch > 0 ? a.batch : 100);
  if (a.json) {
    json pc = json::object();
    for (size_t c = 0; c < ev.per_class.size(); ++c) {
      const ClassStats& s = ev.per_class[c];
      const double d = std::max<int64_t>(1, s.images);
      pc[test.class_names[c]] = {{"images", s.images}, {"accuracy", s.correct / d},
                                 {"mean_iou", s.iou / d}, {"localization_accuracy", s.localized / d}};
    }
    fmt::print("{}\n", json({{"images", ev.total.images},
                             {"accuracy", ev.accuracy()},
                             {"mean_iou", ev.mean_iou()},
                             {"localization_accuracy", ev.loc_accuracy()},
                             {"per_class", pc}})
                           .dump());
    return 0;
  }
  fmt::print("{:<12} {:>6} {:>9} {:>9} {:>10}\n", "class", "images", "accuracy", "mean IoU",
             "loc. acc.");
  auto row = [](const std::string& name, const ClassStats& s) {
    const double d = std::max<int64_t>(1, s.images);
    fmt::print("{:<12} {:>6} {:>8.1f}% {:>9.3f} {:>9.1f}%\n", name, s.images, 100 * s.correct / d,
               s.iou / d, 100 * s.localized / d);
  };
  for (size_t c = 0; c < ev.per_class.size(); ++c) row(test.class_names[c], ev.per_class[c]);
  row("all", ev.total);
  fmt::print("\n{:<12} {:>6} {:>9} {:>9} {:>10}\n", "object size", "images", "accuracy",
             "mean IoU", "loc. acc.");
  for (size_t b = 0; b < ev.per_size.size(); ++b) row(size_bucket_name(int(b)), ev.per_size[b]);
  fmt::print("(object size = sqrt(area) of the true box in scene pixels)\n");
  fmt::print("\nlocalization accuracy = correct class and IoU >= 0.5 with the true box\n");
  return 0;
}

int cmd_predict(const cli::CommonArgs& a, const std::vector<std::string>& images) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  auto model = load_model(model_path);
  const std::vector<std::string> names =
      cli::read_model_names(model_path, "classes", model->config.num_classes);
  const std::string out_dir = cli::predictions_dir(a);
  const int S = model->config.input_size;
  json all = json::array();
  NoGradGuard no_grad;
  for (const auto& path : images) {
    Image img = load_image(path, 3);
    Tensor x = image_input(img, S).reshape({1, 3, S, S});
    models::LocalizerOutput out = model->predict(Var(x));
    Tensor probs = ag::softmax(out.scores, 1).value();
    std::vector<int> idx(probs.numel());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
    std::stable_sort(idx.begin(), idx.end(), [&](int i, int j) { return probs[i] > probs[j]; });
    const Box box = clip_box(to_pixels(out.box.value().data(), img.width, img.height),
                             img.width, img.height);
    const int c = idx[0];
    Image canvas = img;
    const int thick = std::max(2, std::min(img.width, img.height) / 100);
    draw_rect(canvas, box.x1, box.y1, box.x2, box.y2, palette_color(c), thick);
    draw_box_label(canvas, box.x1, box.y1, fmt::format("{} {:.2f}", names[c], probs[c]),
                   palette_color(c));
    fs::create_directories(out_dir);
    const std::string out_path =
        (fs::path(out_dir) / (fs::path(path).stem().string() + ".classify_localize.png")).string();
    save_image(out_path, canvas);
    json top = json::array();
    for (size_t k = 0; k < std::min<size_t>(5, idx.size()); ++k)
      top.push_back({{"class", names[idx[k]]}, {"probability", probs[idx[k]]}});
    all.push_back({{"image", path},
                   {"box_xyxy", {box.x1, box.y1, box.x2, box.y2}},
                   {"top5", top},
                   {"annotated", out_path}});
    if (!a.json)
      fmt::print("{}: {} {:.3f} at [{:.0f}, {:.0f}, {:.0f}, {:.0f}] -> {}\n", path, names[c],
                 probs[c], box.x1, box.y1, box.x2, box.y2, out_path);
  }
  if (a.json) fmt::print("{}\n", all.dump());
  return 0;
}

int cmd_bench(const cli::CommonArgs& a) {
  Rng rng(a.seed);
  models::LocalizerConfig cfg;
  models::Localizer model(cfg, rng);
  nn::Sgd opt(model.parameters(), 0.01f, nn::SgdOptions{0.9f, 0.0f, 0.0f, false});
  return cli::bench_network(model, opt, {1, 32}, [&](int batch) -> cli::BenchForward {
    const int S = cfg.input_size;
    Tensor x = normal({batch, 3, S, S}, 0.0f, 1.0f, rng);
    Tensor y({batch}), box({batch, 4}, 0.5f);
    for (int i = 0; i < batch; ++i) y[i] = static_cast<float>(i % cfg.num_classes);
    return [&model, x, y, box] {
      models::LocalizerOutput out = model.predict(Var(x));
      return ag::add(ag::cross_entropy(out.scores, y), ag::mse(out.box, box));
    };
  }, a.json);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"classify_localize: class scores + box regression, one object per image (lesson 01)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  TrainOptions topt;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train with CE + lambda * L2 and save the model");
  cli::add_common_flags(train, args);
  train.option("--pretrained", topt.pretrained, "classify model whose backbone to start from");
  train.flag("--scratch", topt.scratch, "random initial weights instead of --pretrained");
  train.option("--lambda", topt.lambda, "weight of the box (L2) loss")
      .range(0.0f, 1e6f);
  train.option("--optim", topt.optim, "sgd (Nesterov momentum) or adamw")
      .one_of({"sgd", "adamw"});
  train.option("--cls-input", topt.cls_input,
               "class head reads the fc features (fc) or the spatially averaged map (avg)")
      .one_of({"fc", "avg"});
  train.option("--neck-channels", topt.neck_channels, "channels of the two neck convs")
      .range(1, 1024);
  train.option("--backbone-channels", topt.backbone_channels,
               "channels of the two backbone convs, C1,C2 (lesson 00's: 16,32)")
      .expected(2)
      .delimiter(',')
      .range(1, 1024);
  train.option("--input-size", topt.input_size, "network input side (multiple of 16)")
      .range(16, 512);
  train.option("--dropout", topt.dropout, "dropout before the heads")
      .range(0.0f, 0.95f);
  train.option("--train-scenes", topt.train_scenes,
               "online (fresh generated scenes every step) or files (DATA/train)")
      .one_of({"online", "files"});
  train.flag("--freeze-backbone", topt.freeze_backbone, "train only the new layers");
  train.option("--limit", topt.limit,
               "scenes per epoch (online; default 12000) or the first N files (files)")
      .range(int64_t(1), int64_t(10000000));
  cli::Command eval = app.subcommand("eval", "accuracy, mean IoU and localization accuracy");
  cli::add_common_flags(eval, args);
  cli::Command predict = app.subcommand("predict", "draw the predicted box and class on images");
  cli::add_common_flags(predict, args);
  predict.option("images", images, "PNG/JPEG/BMP files").required();
  cli::Command bench = app.subcommand("bench", "images/s at batch 1 and 32");
  cli::add_common_flags(bench, args);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt);
    if (eval) return cmd_eval(args);
    if (predict) return cmd_predict(args, images);
    return cmd_bench(args);
  });
}
