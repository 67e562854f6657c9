// src/nn: optimizers and schedules against PyTorch golden files, modules (names,
// shapes, BatchNorm train/eval), init statistics, checkpoints (round trip, corrupt
// files, prefix loading); src/data: Fashion-MNIST reader and batching;
// the training loop's NaN guard.
#include <boost/test/unit_test.hpp>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/fashion_mnist.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "nn/init.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "models/classifier.h"
#include "util/files.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

json read_golden(const std::string& name) {
  return json::parse(read_file_text(std::string(DETLAB_SOURCE_DIR) + "/tests/golden/optim/" + name));
}

bool close_rel(double a, double b, double rel = 1e-6, double abs_tol = 1e-7) {
  return std::fabs(a - b) <= abs_tol + rel * std::fabs(b);
}

// Runs one golden optimizer file through `make` and compares every step.
void check_optimizer(const std::string& file,
                     const std::function<std::unique_ptr<nn::Optimizer>(std::vector<Var>)>& make) {
  json g = read_golden(file);
  std::vector<Var> ps;
  for (size_t i = 0; i < g["shapes"].size(); ++i)
    ps.emplace_back(Tensor(g["shapes"][i].get<Shape>(), g["initial"][i].get<std::vector<float>>()),
                    true);
  auto opt = make(ps);
  for (size_t s = 0; s < g["grads"].size(); ++s) {
    for (size_t i = 0; i < ps.size(); ++i)
      ps[i].grad() = Tensor(ps[i].shape(), g["grads"][s][i].get<std::vector<float>>());
    opt->step();
    for (size_t i = 0; i < ps.size(); ++i) {
      auto want = g["params_after"][s][i].get<std::vector<float>>();
      for (size_t k = 0; k < want.size(); ++k)
        BOOST_TEST_CONTEXT(file << " step " << s << " param " << i << " elem " << k)
        BOOST_TEST(close_rel(ps[i].value()[k], want[k]), ps[i].value()[k] << " vs " << want[k]);
    }
  }
}

std::string temp_dir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("detlab_test_nn_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(p);
  return p.string();
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> be32(uint32_t v) {
  return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

bool message_has(const std::exception& e, const std::string& a, const std::string& b) {
  std::string m = e.what();
  return m.find(a) != std::string::npos && m.find(b) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optim)

BOOST_AUTO_TEST_CASE(sgd_matches_pytorch) {
  check_optimizer("sgd_plain.json", [](std::vector<Var> p) {
    return std::make_unique<nn::Sgd>(p, 0.1f);
  });
  check_optimizer("sgd_momentum.json", [](std::vector<Var> p) {
    return std::make_unique<nn::Sgd>(p, 0.1f, nn::SgdOptions{0.9f, 0.1f, 0.01f, false});
  });
  check_optimizer("sgd_nesterov.json", [](std::vector<Var> p) {
    return std::make_unique<nn::Sgd>(p, 0.1f, nn::SgdOptions{0.9f, 0.0f, 1e-3f, true});
  });
}

BOOST_AUTO_TEST_CASE(adam_and_adamw_match_pytorch) {
  check_optimizer("adam.json", [](std::vector<Var> p) {
    nn::AdamOptions o;
    o.weight_decay = 0.01f;
    return std::make_unique<nn::Adam>(p, 0.01f, o);
  });
  check_optimizer("adamw.json", [](std::vector<Var> p) {
    return std::make_unique<nn::Adam>(nn::AdamW(p, 0.01f, 0.1f));
  });
}

BOOST_AUTO_TEST_CASE(schedules_match_pytorch) {
  json g = read_golden("schedules.json");
  nn::LrSchedule st;
  st.kind = nn::LrSchedule::Kind::Step;
  st.base_lr = 0.1;
  st.step_size = 3;
  st.gamma = 0.5;
  auto lr = g["step"]["lr"].get<std::vector<double>>();
  for (size_t t = 0; t < lr.size(); ++t) BOOST_TEST(close_rel(st.at(int(t)), lr[t], 1e-9));
  nn::LrSchedule cs;
  cs.kind = nn::LrSchedule::Kind::Cosine;
  cs.base_lr = 0.1;
  cs.total = 8;
  cs.eta_min = 0.001;
  lr = g["cosine"]["lr"].get<std::vector<double>>();
  for (size_t t = 0; t < lr.size(); ++t) BOOST_TEST(close_rel(cs.at(int(t)), lr[t], 1e-9));
  nn::LrSchedule wu;
  wu.base_lr = 0.1;
  wu.warmup = 4;
  wu.warmup_start = 0.1;
  lr = g["warmup"]["lr"].get<std::vector<double>>();
  for (size_t t = 0; t < lr.size(); ++t) BOOST_TEST(close_rel(wu.at(int(t)), lr[t], 1e-9));
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_matches_pytorch) {
  json g = read_golden("clip.json");
  std::vector<Var> ps = {Var(Tensor({2, 3}), true), Var(Tensor({4}), true)};
  for (int i = 0; i < 2; ++i)
    ps[i].grad() = Tensor(ps[i].shape(), g["grads"][i].get<std::vector<float>>());
  const float norm = nn::clip_grad_norm(ps, 1.0f);
  BOOST_TEST(close_rel(norm, g["norm"].get<double>(), 1e-6));
  for (int i = 0; i < 2; ++i) {
    auto want = g["clipped"][i].get<std::vector<float>>();
    for (size_t k = 0; k < want.size(); ++k) BOOST_TEST(close_rel(ps[i].grad()[k], want[k]));
  }
}

BOOST_AUTO_TEST_CASE(frozen_and_gradless_parameters_are_skipped) {
  Var a(Tensor({2}, 1.0f), true), b(Tensor({2}, 1.0f), true), c(Tensor({2}, 1.0f), true);
  a.grad() = Tensor({2}, 1.0f);
  b.grad() = Tensor({2}, 1.0f);
  b.node()->requires_grad = false;  // frozen
  nn::Sgd sgd({a, b, c}, 0.5f, nn::SgdOptions{0.9f, 0.0f, 0.0f, false});
  sgd.step();
  BOOST_TEST(a.value()[0] == 0.5f);
  BOOST_TEST(b.value()[0] == 1.0f);
  BOOST_TEST(c.value()[0] == 1.0f);  // no gradient at all
  sgd.zero_grad();
  BOOST_TEST(!a.grad().defined());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(modules)

BOOST_AUTO_TEST_CASE(small_cnn_names_and_shapes) {
  Rng rng(3);
  models::SmallCnnConfig cfg;
  models::SmallCnn m(cfg, rng);
  std::vector<std::string> names;
  for (auto& p : m.named_parameters()) names.push_back(p.first);
  std::vector<std::string> want = {"backbone.0.weight", "backbone.1.weight", "backbone.1.bias",
                                   "backbone.4.weight", "backbone.5.weight", "backbone.5.bias",
                                   "head.2.weight",     "head.2.bias"};
  BOOST_TEST(names == want, boost::test_tools::per_element());
  auto bufs = m.named_buffers();
  BOOST_TEST(bufs.size() == 4u);
  BOOST_TEST(bufs[0].first == "backbone.1.running_mean");
  BOOST_TEST(bufs[3].first == "backbone.5.running_var");
  // 16*1*9 + 2*16 + 32*16*9 + 2*32 + 10*32*49 + 10
  BOOST_TEST(m.num_parameters() == 144 + 32 + 4608 + 64 + 15680 + 10);
  Var y = m(Var(Tensor({3, 1, 28, 28}, 0.5f)));
  BOOST_TEST(y.shape() == Shape({3, 10}));
  BOOST_TEST(m.features(Var(Tensor({2, 1, 28, 28}))).shape() == Shape({2, 32, 7, 7}));
}

BOOST_AUTO_TEST_CASE(linear_is_x_wt_plus_b) {
  Rng rng(1);
  nn::Linear lin(3, 2, rng);
  lin.weight.value() = Tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  lin.bias.value() = Tensor({2}, {0.5f, -1});
  Var y = lin(Var(Tensor({1, 3}, {1, 0, -1})));
  BOOST_TEST(y.value().to_vector() == std::vector<float>({-1.5f, -3.0f}));
}

BOOST_AUTO_TEST_CASE(simple_layers) {
  Tensor x({1, 1, 2, 4}, {-2, 1, 3, -4, 5, -6, 0, 8});
  nn::LeakyReLU lr(0.5f);
  BOOST_TEST(lr(Var(x)).value()[0] == -1.0f);
  nn::MaxPool2d mp(2);
  BOOST_TEST(mp(Var(x)).value().to_vector() == std::vector<float>({5, 8}));
  nn::Dropout d(0.5f, 1);
  d.eval();
  BOOST_TEST(max_abs_diff(d(Var(x)).value(), x) == 0.0f);
  nn::Flatten f;
  BOOST_TEST(f(Var(x)).shape() == Shape({1, 8}));
}

BOOST_AUTO_TEST_CASE(batchnorm_train_vs_eval) {
  nn::BatchNorm2d bn(2);
  // Channel 0 holds 1..4, channel 1 holds 10 everywhere; N=1, H=W=2.
  Tensor x({1, 2, 2, 2}, {1, 2, 3, 4, 10, 10, 10, 10});
  Var y = bn(Var(x));
  // Train: batch mean 2.5, biased var 1.25 -> (x - 2.5) / sqrt(1.25 + eps).
  BOOST_TEST(std::fabs(y.value()[0] - (-1.5f / std::sqrt(1.25f + 1e-5f))) < 1e-5f);
  BOOST_TEST(std::fabs(y.value()[4]) < 1e-5f);
  // Running stats: 0.9 * old + 0.1 * batch, with the unbiased variance (5/3).
  BOOST_TEST(std::fabs((*bn.running_mean)[0] - 0.25f) < 1e-6f);
  BOOST_TEST(std::fabs((*bn.running_var)[0] - (0.9f + 0.1f * 5.0f / 3.0f)) < 1e-6f);
  BOOST_TEST(std::fabs((*bn.running_mean)[1] - 1.0f) < 1e-6f);
  bn.eval();
  Var z = bn(Var(x));
  const float rm = (*bn.running_mean)[0], rv = (*bn.running_var)[0];
  BOOST_TEST(std::fabs(z.value()[3] - (4 - rm) / std::sqrt(rv + 1e-5f)) < 1e-5f);
  BOOST_TEST(std::fabs((*bn.running_mean)[0] - rm) == 0.0f);  // eval leaves stats alone
}

BOOST_AUTO_TEST_CASE(train_eval_propagates_to_children) {
  Rng rng(1);
  models::SmallCnn m(models::SmallCnnConfig{}, rng);
  m.eval();
  BOOST_TEST(!m.backbone->is_training());
  BOOST_TEST(!(*m.head)[1]->is_training());
  m.train();
  BOOST_TEST((*m.backbone)[1]->is_training());
}

BOOST_AUTO_TEST_CASE(init_statistics) {
  Rng rng(11);
  Tensor w({128, 64, 3, 3});
  nn::kaiming_uniform_(w, rng);
  const double want_std = std::sqrt(2.0 / (64 * 9));
  double s = 0, s2 = 0, mx = 0;
  for (float v : w) s += v, s2 += double(v) * v, mx = std::max(mx, double(std::fabs(v)));
  const double n = double(w.numel());
  BOOST_TEST(std::fabs(s / n) < 0.01 * want_std * 10);
  BOOST_TEST(std::fabs(std::sqrt(s2 / n) / want_std - 1.0) < 0.02);
  BOOST_TEST(mx <= std::sqrt(3.0) * want_std + 1e-6);  // uniform bound
  Tensor x({200, 300});
  nn::xavier_normal_(x, rng);
  s2 = 0;
  for (float v : x) s2 += double(v) * v;
  BOOST_TEST(std::fabs(std::sqrt(s2 / x.numel()) / std::sqrt(2.0 / 500) - 1.0) < 0.02);
  int64_t fi, fo;
  nn::compute_fans({8, 4, 5, 5}, fi, fo);
  BOOST_TEST(fi == 100);
  BOOST_TEST(fo == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checkpoint)

BOOST_AUTO_TEST_CASE(round_trip_gives_identical_outputs) {
  const std::string dir = temp_dir("ckpt");
  const std::string path = dir + "/m.safetensors";
  Rng r1(1), r2(2), rx(3);
  models::SmallCnn a(models::SmallCnnConfig{}, r1), b(models::SmallCnnConfig{}, r2);
  // Make the running stats non-trivial.
  a(Var(normal({8, 1, 28, 28}, 0.3f, 1.0f, rx)));
  a.eval();
  b.eval();
  Tensor x = normal({4, 1, 28, 28}, 0.0f, 1.0f, rx);
  nn::save_checkpoint(path, a, {{"config", a.config.to_json()}});
  BOOST_TEST(max_abs_diff(a(Var(x)).value(), b(Var(x)).value()) > 0.0f);
  auto meta = nn::load_checkpoint(path, b);
  BOOST_TEST(meta.at("config") == a.config.to_json());
  BOOST_TEST(max_abs_diff(a(Var(x)).value(), b(Var(x)).value()) == 0.0f);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(corrupt_and_mismatched_files_throw_file_error) {
  const std::string dir = temp_dir("bad");
  const std::string path = dir + "/m.safetensors";
  Rng rng(1);
  models::SmallCnn a(models::SmallCnnConfig{}, rng);
  nn::save_checkpoint(path, a);
  auto bytes = read_file_bytes(path);
  const std::string trunc = dir + "/trunc.safetensors";
  write_file_atomic(trunc, bytes.data(), bytes.size() / 2);
  try {
    nn::load_checkpoint(trunc, a);
    BOOST_FAIL("truncated checkpoint loaded");
  } catch (const FileError& e) {
    BOOST_TEST(std::string(e.what()).find(trunc) != std::string::npos, e.what());
  }
  models::SmallCnnConfig wider;
  wider.c2 = 48;
  models::SmallCnn w(wider, rng);
  try {
    nn::load_checkpoint(path, w);
    BOOST_FAIL("shape mismatch loaded");
  } catch (const FileError& e) {
    BOOST_TEST(message_has(e, path, "backbone.4.weight"), e.what());
  }
  // A model with an extra tensor the file lacks.
  nn::Sequential seq;
  seq.add(std::make_shared<nn::Linear>(2, 2, rng));
  nn::save_checkpoint(dir + "/lin.safetensors", seq);
  nn::Sequential seq2;
  seq2.add(std::make_shared<nn::Linear>(2, 2, rng));
  seq2.add(std::make_shared<nn::Linear>(2, 2, rng));
  try {
    nn::load_checkpoint(dir + "/lin.safetensors", seq2);
    BOOST_FAIL("missing tensor loaded");
  } catch (const FileError& e) {
    BOOST_TEST(message_has(e, "missing tensor", "1.weight"), e.what());
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(non_finite_weights_are_refused_naming_the_tensor) {
  const std::string dir = temp_dir("nonfinite");
  Rng rng(4);
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    nn::Sequential good, poisoned;
    good.add(std::make_shared<nn::Linear>(3, 2, rng));
    poisoned.add(std::make_shared<nn::Linear>(3, 2, rng));
    poisoned.named_parameters()[1].second.node()->value[1] = bad;  // "0.bias"
    const std::string path = dir + "/poisoned.safetensors";
    nn::save_checkpoint(path, poisoned);
    const Tensor before = good.named_parameters()[0].second.value();
    try {
      nn::load_checkpoint(path, good);
      BOOST_FAIL("a non-finite weight loaded");
    } catch (const FileError& e) {
      BOOST_TEST(message_has(e, path, "'0.bias'"), e.what());
      BOOST_TEST(std::string(e.what()).find("non-finite") != std::string::npos, e.what());
    }
    // Refused before any copy: the model is unchanged.
    BOOST_TEST(max_abs_diff(good.named_parameters()[0].second.value(), before) == 0.0f);
    BOOST_CHECK_THROW(nn::load_checkpoint_prefix(path, good, "", ""), FileError);
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(prefix_loading_reports_what_it_did) {
  const std::string dir = temp_dir("prefix");
  const std::string path = dir + "/m.safetensors";
  Rng rng(5);
  models::SmallCnn src(models::SmallCnnConfig{}, rng);
  nn::save_checkpoint(path, src);
  models::SmallCnnConfig five;
  five.num_classes = 5;
  models::SmallCnn dst(five, rng);
  auto rep = nn::load_checkpoint_prefix(path, dst, "backbone.", "backbone.");
  BOOST_TEST(rep.loaded.size() == 10u);  // 2 convs + 2 x (weight, bias, mean, var)
  BOOST_TEST(rep.skipped.size() == 2u);  // head.2.weight/bias of the 10-class head
  BOOST_TEST(rep.initialised == std::vector<std::string>({"head.2.weight", "head.2.bias"}),
             boost::test_tools::per_element());
  BOOST_TEST(max_abs_diff(dst.backbone->named_parameters()[0].second.value(),
                          src.backbone->named_parameters()[0].second.value()) == 0.0f);
  BOOST_TEST(rep.str().find("loaded 10") != std::string::npos);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(data)

BOOST_AUTO_TEST_CASE(fashion_mnist_test_split) {
  FashionMnist d = load_fashion_mnist(kFashionMnistDir, "test");
  BOOST_TEST(d.count == 10000);
  BOOST_TEST(d.images.size() == 10000u * 784u);
  BOOST_TEST(int(d.labels[0]) == 9);  // the first test item is an ankle boot
  std::vector<int> per(10, 0);
  for (auto l : d.labels) per[l]++;
  for (int c = 0; c < 10; ++c) BOOST_TEST(per[c] == 1000);  // balanced test set
  BOOST_TEST(fashion_mnist_classes()[9] == "Ankle boot");
}

BOOST_AUTO_TEST_CASE(bad_idx_files_name_the_file_and_problem) {
  const std::string dir = temp_dir("idx");
  std::vector<uint8_t> hdr = be32(2049);  // label magic in an image file
  for (auto v : {be32(1), be32(28), be32(28)}) hdr.insert(hdr.end(), v.begin(), v.end());
  hdr.resize(hdr.size() + 784);
  write_gz(dir + "/train-images-idx3-ubyte.gz", hdr);
  FashionMnist d;
  try {
    read_idx_images(dir + "/train-images-idx3-ubyte.gz", d);
    BOOST_FAIL("bad magic accepted");
  } catch (const FileError& e) {
    BOOST_TEST(message_has(e, "train-images-idx3-ubyte.gz", "magic"), e.what());
  }
  std::vector<uint8_t> lab = be32(2049);
  auto n = be32(5);
  lab.insert(lab.end(), n.begin(), n.end());
  lab.insert(lab.end(), {1, 2, 3});  // 3 of 5 labels
  write_gz(dir + "/l.gz", lab);
  try {
    read_idx_labels(dir + "/l.gz", d);
    BOOST_FAIL("truncated labels accepted");
  } catch (const FileError& e) {
    BOOST_TEST(message_has(e, "l.gz", "truncated"), e.what());
  }
  lab.insert(lab.end(), {4, 12});  // label 12 is out of range
  write_gz(dir + "/l2.gz", lab);
  try {
    read_idx_labels(dir + "/l2.gz", d);
    BOOST_FAIL("bad label accepted");
  } catch (const FileError& e) {
    BOOST_TEST(message_has(e, "l2.gz", "label 12"), e.what());
  }
  BOOST_CHECK_THROW(load_fashion_mnist(dir + "/nope", "test"), FileError);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(shuffle_and_batches_are_deterministic) {
  Rng a(42), b(42);
  auto p = shuffled_indices(1000, a), q = shuffled_indices(1000, b);
  BOOST_TEST(p == q);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) BOOST_TEST(sorted[i] == i);
  BOOST_TEST(p != sorted);

  FashionMnist d;
  d.count = 2;
  d.images.assign(2 * 784, 0);
  d.images[0] = 255;          // item 0: top-left pixel white
  d.labels = {3, 7};
  Batch plain = make_batch(d, {1, 0}, 0, 2);
  BOOST_TEST(plain.labels.to_vector() == std::vector<float>({7, 3}));
  BOOST_TEST(std::fabs(plain.images[784] - (1.0f - kFashionMean) / kFashionStd) < 1e-6f);
  BOOST_TEST(std::fabs(plain.images[785] - (0.0f - kFashionMean) / kFashionStd) < 1e-6f);
  Augment aug;
  aug.enabled = true;
  Rng r(9);
  Batch x1 = make_batch(d, {0, 1}, 0, 2, aug, &r), x2 = make_batch(d, {0, 1}, 0, 2, aug, &r);
  BOOST_TEST(max_abs_diff(x1.images, x2.images) == 0.0f);
  // The white pixel moved at most pad=2 from a corner (flip may mirror it).
  float white = 0;
  for (int i = 0; i < 784; ++i) white += x1.images[i] > 1.0f;
  BOOST_TEST(white <= 1.0f);
}

BOOST_AUTO_TEST_CASE(csv_log_has_one_line_per_epoch) {
  cli::EpochLog a, b;
  a.epoch = 1, a.lr = 0.1, a.train_loss = 0.5, a.train_acc = 0.75, a.seconds = 2;
  a.metrics["test_acc"] = 0.8;
  b = a;
  b.epoch = 2;
  const std::string csv = cli::epoch_logs_csv({a, b});
  BOOST_TEST(csv == "epoch,lr,train_loss,train_acc,seconds,test_acc\n"
                    "1,0.1,0.500000,0.750000,2.000,0.800000\n"
                    "2,0.1,0.500000,0.750000,2.000,0.800000\n");
}

BOOST_AUTO_TEST_CASE(train_loop_stops_on_nan_naming_the_step) {
  cli::TrainLoopConfig cfg{2, 3, true};
  int calls = 0;
  try {
    cli::train_loop(
        cfg,
        [&](int e, int64_t s, int64_t) {
          ++calls;
          return cli::StepResult{(e == 1 && s == 1) ? NAN : 1.0, 1, -1};
        },
        nullptr);
    BOOST_FAIL("NaN loss not detected");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(message_has(e, "epoch 2 step 2", "global step 5"), e.what());
  }
  BOOST_TEST(calls == 5);
}

BOOST_AUTO_TEST_SUITE_END()
