// Lesson 00: a CNN classifier on Fashion-MNIST - the lecture's "classification"
// stage, and the pretrained backbone the later lessons transfer from.
//   bin/classify train [--quick]      data -> model -> loss -> train -> save
//   bin/classify eval                 accuracy, per-class accuracy, confusion matrix
//   bin/classify predict IMAGE...     top-3 classes, annotated PNG
//   bin/classify bench                images/s for inference and training
#include <fmt/core.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/fashion_mnist.h"
#include "image/draw.h"
#include "image/image.h"
#include "lessons/common/bench.h"
#include "lessons/common/cli.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/report.h"
#include "models/classifier.h"
#include "nn/optimizer.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/classify.safetensors";
const cli::TrainDefaults kTrainDefaults{-1, 64, -1.0f, "6 (1 with --quick)", "",
                                        "0.05 (--optim sgd), 0.002 (adamw)"};
// --quick's model has its own name: the later lessons start from kDefaultModel, and an
// 87 % quick model must never replace the full backbone silently.
const char* kQuickModel = "data/models/classify_quick.safetensors";

// eval / predict: the full model, or the quick one when it is all there is (said once).
std::string model_to_read(const cli::CommonArgs& a) {
  if (!a.model.empty()) return a.model;
  if (!std::filesystem::exists(kDefaultModel) && std::filesystem::exists(kQuickModel)) {
    if (!a.quiet && !a.json) fmt::print(stderr, "note: reading the --quick model {}\n", kQuickModel);
    return kQuickModel;
  }
  return kDefaultModel;
}

struct TrainOptions {
  bool quick = false;
  std::string optim = "sgd";
  int64_t limit = 0;     // use only this many training images (0 = all)
  bool augment = false;
};

// Loads a model written by `classify train`; the architecture comes from the metadata.
// Its outputs are Fashion-MNIST's ten classes, named in its "classes" list: eval counts
// them against the data set's labels and predict prints their names, so a model with
// another number of classes or a missing or short list is refused here.
std::unique_ptr<models::SmallCnn> load_model(const std::string& path) {
  const auto cfg = cli::read_model_config_as<models::SmallCnnConfig>(path, "classify");
  const int n = static_cast<int>(fashion_mnist_classes().size());
  if (cfg.num_classes != n)
    throw FileError(path, fmt::format("has {} classes, a classify model has Fashion-MNIST's {}",
                                      cfg.num_classes, n));
  cli::read_model_names(path, "classes", n);
  return cli::load_weights<models::SmallCnn>(path, cfg);
}

int cmd_train(cli::CommonArgs a, const TrainOptions& t) {
  const std::string data_dir = a.data.empty() ? kFashionMnistDir : a.data;
  if (a.epochs < 0) a.epochs = t.quick ? 1 : 6;
  const cli::TrainStart start(a, t.quick ? kQuickModel : kDefaultModel, kTrainDefaults);
  const std::string& model_path = start.model_path;
  // --quick: a third of the training set for one epoch (< 30 s on 2 cores).
  int64_t limit = t.limit > 0 ? t.limit : (t.quick ? 20000 : 0);
  const bool sgd = t.optim == "sgd";
  if (a.lr < 0) a.lr = sgd ? 0.05f : 2e-3f;

  // 1. data
  FashionMnist train = load_fashion_mnist(data_dir, "train");
  FashionMnist test = load_fashion_mnist(data_dir, "test");
  std::vector<int64_t> subset(static_cast<size_t>(train.count));
  for (int64_t i = 0; i < train.count; ++i) subset[i] = i;
  if (limit > 0 && limit < train.count) {
    Rng pick = Rng(a.seed).fork(1);
    subset = shuffled_indices(train.count, pick);
    subset.resize(static_cast<size_t>(limit));
  }
  const int64_t n = static_cast<int64_t>(subset.size());

  // 2. model
  Rng rng(a.seed);
  models::SmallCnnConfig cfg;
  models::SmallCnn model(cfg, rng);
  if (!a.quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));

  // 3. loss (models::classifier_loss) + optimizer + schedule, set up by fit: SGD with
  // Nesterov momentum and weight decay 5e-4, or AdamW with decoupled decay 0.05; linear
  // warm-up over min(100, steps per epoch), then cosine decay.
  Augment aug;
  aug.enabled = t.augment;
  const cli::FitOptions fo{a.epochs, (n + a.batch - 1) / a.batch, a.quiet, t.optim, a.lr,
                           sgd ? 5e-4f : 0.05f, 100,
                           {&model, model_path, a.resume}};

  // 4. train
  std::vector<int64_t> order;
  Rng aug_rng;
  auto batch_loss = [&](int epoch, int64_t s, int64_t) {
    if (s == 0) {
      Rng shuffle = Rng(a.seed).fork(100 + epoch);
      std::vector<int64_t> perm = shuffled_indices(n, shuffle);
      order.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) order[i] = subset[perm[i]];
      aug_rng = Rng(a.seed).fork(10000 + epoch);
    }
    Batch b = make_batch(train, order, s * a.batch, a.batch, aug, &aug_rng);
    models::ClassifierLoss L = models::classifier_loss(model, b);
    return cli::StepLosses{L.loss, {}, b.labels.numel(), L.correct};
  };
  models::ClassifierEval last;
  auto epoch_end = [&](cli::EpochLog& log) {
    last = models::evaluate_classifier(model, test, 500);
    log.metrics["test_acc"] = last.accuracy();
    log.metrics["test_loss"] = last.loss;
  };
  const auto t0 = Clock::now();
  auto logs = cli::fit(model.parameters(), fo, batch_loss, epoch_end);
  const double seconds = seconds_since(t0);

  // 5. save model + logs
  json args = {{"epochs", a.epochs}, {"batch", a.batch},   {"lr", a.lr},
               {"seed", a.seed},     {"optim", t.optim},   {"train_images", n},
               {"augment", t.augment}, {"quick", t.quick}};
  const std::string stem = cli::save_training_run(
      model_path, model,
      {{"config", cfg.to_json()},
       {"classes", json(fashion_mnist_classes()).dump()},
       {"train_args", args.dump()},
       {"test_accuracy", fmt::format("{:.4f}", last.accuracy())}},
      logs, "classify: Fashion-MNIST");

  if (a.json) {
    json j = {{"model", model_path}, {"test_accuracy", last.accuracy()},
              {"test_loss", last.loss}, {"seconds", seconds}, {"train_images", n},
              {"epochs", a.epochs}};
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("test accuracy {:.2f}% ({} / {}) after {} epoch(s) on {} images, {:.1f} s\n",
               100.0 * last.accuracy(), last.correct, last.total, a.epochs, n, seconds);
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", model_path, stem, stem);
  }
  return 0;
}

int cmd_eval(const cli::CommonArgs& a) {
  const std::string data_dir = a.data.empty() ? kFashionMnistDir : a.data;
  auto model = load_model(model_to_read(a));
  FashionMnist test = load_fashion_mnist(data_dir, "test");
  const models::ClassifierEval ev = models::evaluate_classifier(*model, test, a.batch > 0 ? a.batch : 500);
  const auto& names = fashion_mnist_classes();
  const std::vector<double> per_class = ev.per_class_accuracy();
  if (cli::result_wanted(a)) {
    json pc = json::object();
    for (int c = 0; c < 10; ++c) pc[names[c]] = per_class[c];
    json j = {{"accuracy", ev.accuracy()}, {"loss", ev.loss},       {"images", ev.total},
              {"classes", names},          {"per_class_accuracy", pc}, {"confusion", ev.confusion}};
    if (cli::output_result(a, "eval", j)) return 0;
  }
  fmt::print("test accuracy {:.2f}% ({} / {}), mean loss {:.4f}\n\n", 100 * ev.accuracy(),
             ev.correct, ev.total, ev.loss);
  fmt::print("{:<12} {:>8}\n", "class", "accuracy");
  for (int c = 0; c < 10; ++c) fmt::print("{:<12} {:>7.1f}%\n", names[c], 100 * per_class[c]);
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted)\n{:<12}", "");
  for (int p = 0; p < 10; ++p) fmt::print(" {:>5.5}", names[p]);
  fmt::print("\n");
  for (int c = 0; c < 10; ++c) {
    fmt::print("{:<12}", names[c]);
    for (int p = 0; p < 10; ++p) fmt::print(" {:>5}", ev.confusion[c][p]);
    fmt::print("\n");
  }
  return 0;
}

// Writes the first n test-split images as PNGs named after their true class, so the
// demo can predict on images the network never trained on.
std::vector<std::string> export_test_images(const cli::CommonArgs& a, int n,
                                            const std::string& out_dir) {
  const FashionMnist test =
      load_fashion_mnist(a.data.empty() ? kFashionMnistDir : a.data, "test");
  std::vector<std::string> paths;
  fs::create_directories(out_dir);
  for (int i = 0; i < n && i < test.count; ++i) {
    Image img(test.cols, test.rows, 1, 0);
    std::copy(test.image(i), test.image(i) + test.rows * test.cols, img.pixels.begin());
    std::string label = fashion_mnist_classes()[test.labels[i]];
    std::replace(label.begin(), label.end(), '/', '-');
    std::replace(label.begin(), label.end(), ' ', '-');
    paths.push_back((fs::path(out_dir) / fmt::format("test{:04d}_{}.png", i, label)).string());
    save_image(paths.back(), img);
  }
  return paths;
}

int cmd_predict(const cli::CommonArgs& a, std::vector<std::string> images, int from_test) {
  auto model = load_model(model_to_read(a));
  const std::string out_dir = cli::predictions_dir(a);
  const auto& names = fashion_mnist_classes();
  for (const auto& p : export_test_images(a, from_test, out_dir)) images.push_back(p);
  json all = json::array();
  for (const auto& path : images) {
    const Image small = models::to_fashion_input(load_grey(path));
    const Tensor probs = models::class_probabilities(*model, small);
    std::vector<int> idx(10);
    for (int i = 0; i < 10; ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](int i, int j) { return probs[i] > probs[j]; });
    // Annotated picture: the network's 28x28 input, 8x enlarged, with the top-3 below.
    const int S = 8;
    Image canvas(28 * S, 28 * S + 48, 3, 255);
    for (int y = 0; y < 28 * S; ++y)
      for (int x = 0; x < 28 * S; ++x)
        for (int c = 0; c < 3; ++c) canvas.at(x, y, c) = small.at(x / S, y / S);
    json top = json::array();
    for (int k = 0; k < 3; ++k) {
      const int c = idx[k];
      top.push_back({{"class", names[c]}, {"index", c}, {"probability", probs[c]}});
      draw_text(canvas, 4, 28 * S + 3 + 15 * k,
                fmt::format("{}. {} {:.1f}%", k + 1, names[c], 100 * probs[c]),
                Color{0, 0, 0}, k == 0 ? palette_color(c) : Color{255, 255, 255}, 1);
    }
    const std::string out =
        (fs::path(out_dir) / (fs::path(path).stem().string() + ".classify.png")).string();
    fs::create_directories(out_dir);
    save_image(out, canvas);
    all.push_back({{"image", path}, {"top3", top}, {"annotated", out}});
    if (!a.json)
      fmt::print("{}: {} {:.3f}, {} {:.3f}, {} {:.3f} -> {}\n", path, names[idx[0]],
                 probs[idx[0]], names[idx[1]], probs[idx[1]], names[idx[2]], probs[idx[2]], out);
  }
  cli::output_result(a, "predict", all);
  return 0;
}

int cmd_bench(const cli::CommonArgs& a) {
  Rng rng(a.seed);
  models::SmallCnnConfig cfg;
  models::SmallCnn model(cfg, rng);
  auto opt = nn::Sgd(model.parameters(), 0.01f, nn::SgdOptions{0.9f, 0.0f, 0.0f, false});
  return cli::bench_network(model, opt, {1, 64}, [&](int batch) -> cli::BenchForward {
    Batch b{normal({batch, 1, 28, 28}, 0.0f, 1.0f, rng), Tensor({batch})};
    for (int i = 0; i < batch; ++i) b.labels[i] = static_cast<float>(i % 10);
    return [&model, b] { return models::classifier_loss(model, b).loss; };
  }, a.json);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"classify: a small CNN classifier on Fashion-MNIST (lesson 00)"};
  cli::CommonArgs args;
  TrainOptions topt;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train the CNN and save it with its logs");
  cli::add_train_flags(train, args, kTrainDefaults);
  train.flag("--quick", topt.quick, "small fast config: 20k images, 1 epoch, saved as classify_quick");
  train.option("--optim", topt.optim, "sgd (Nesterov momentum) or adamw").one_of({"sgd", "adamw"});
  train.option("--limit", topt.limit, "train on this many images only").range(int64_t(1), int64_t(60000));
  train.flag("--augment", topt.augment, "random crop (pad 2) and horizontal flip");
  cli::Command eval = cli::add_command(app, args, "eval", "accuracy, per-class accuracy, confusion matrix", true);
  cli::Command predict = cli::add_command(app, args, "predict", "top-3 classes of images, annotated PNGs", true);
  int from_test = 0;
  predict.option("images", images, "PNG/JPEG/BMP/PGM files");
  predict.option("--test", from_test, "also predict the first N test-split images").range(0, 10000);
  cli::add_command(app, args, "bench", "images/s at batch 1 and 64");

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  if (predict && images.empty() && from_test == 0) {
    fmt::print(stderr, "classify predict: give image files or --test N (see --help)\n");
    return 2;
  }
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt);
    if (eval) return cmd_eval(args);
    if (predict) return cmd_predict(args, images, from_test);
    return cmd_bench(args);
  });
}
