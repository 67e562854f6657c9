// bin/classify end to end: --quick training reaches >= 85% test accuracy; bad data,
// truncated checkpoints and bad flags give the documented exit status and a one-line
// message naming the file; 1 and 2 threads train bit-identical models.
#include <boost/test/unit_test.hpp>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "run_program.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using detlab_test::Run;

Run classify(const std::string& args, const std::string& dir) {
  return detlab_test::run_program("classify", args, dir);
}

std::string temp_dir(const std::string& tag) { return detlab_test::temp_dir("classify_" + tag); }

int lines(const std::string& s) { return detlab_test::count_lines(s); }

}  // namespace

BOOST_AUTO_TEST_SUITE(classify_program)

BOOST_AUTO_TEST_CASE(quick_training_reaches_85_percent) {
  const std::string dir = temp_dir("quick");
  // Run from `dir`, with the default model paths: --quick saves classify_quick, never the
  // classify.safetensors the later lessons start from.
  const std::string in_dir = "--data /usr/share/datasets/fashion-mnist --threads 2 ";
  const std::string cd = "cd " + dir + " && ";
  Run r;
  {
    const int rc = std::system((cd + DETLAB_BIN_DIR + "/classify train --quick --quiet --json " +
                                in_dir + " >" + dir + "/out.txt 2>" + dir + "/err.txt").c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = dl::read_file_text(dir + "/out.txt");
    r.err = dl::read_file_text(dir + "/err.txt");
  }
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  json j = json::parse(r.out);
  BOOST_TEST(j["test_accuracy"].get<double>() >= 0.85, r.out);
  const std::string m = dir + "/data/models/classify_quick";
  BOOST_TEST(fs::exists(m + ".safetensors"));
  BOOST_TEST(!fs::exists(dir + "/data/models/classify.safetensors"));
  BOOST_TEST(fs::exists(m + ".csv"));
  BOOST_TEST(fs::exists(m + ".svg"));
  // eval without --model reads the quick model when it is the only one, and says so.
  const int rc = std::system((cd + DETLAB_BIN_DIR + "/classify eval " + in_dir + " >" + dir +
                              "/eval.txt 2>" + dir + "/eval_err.txt").c_str());
  BOOST_TEST(WEXITSTATUS(rc) == 0);
  BOOST_TEST(dl::read_file_text(dir + "/eval_err.txt").find("classify_quick.safetensors") !=
             std::string::npos);
  // eval on the saved model reproduces the accuracy train reported.
  Run e = classify("eval --json --model " + m + ".safetensors", dir);
  BOOST_REQUIRE_MESSAGE(e.status == 0, e.err);
  json ej = json::parse(e.out);
  BOOST_TEST(std::fabs(ej["accuracy"].get<double>() - j["test_accuracy"].get<double>()) < 1e-9);
  int64_t total = 0;
  for (auto& row : ej["confusion"])
    for (auto& v : row) total += v.get<int64_t>();
  BOOST_TEST(total == 10000);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(one_and_two_threads_train_identical_models) {
  const std::string dir = temp_dir("threads");
  const std::string common = "train --quiet --limit 1000 --epochs 1 --batch 50 --seed 3 ";
  Run a = classify(common + "--threads 1 --model " + dir + "/t1.safetensors", dir);
  Run b = classify(common + "--threads 2 --model " + dir + "/t2.safetensors", dir);
  BOOST_REQUIRE_MESSAGE(a.status == 0 && b.status == 0, a.err + b.err);
  BOOST_TEST((dl::read_file_bytes(dir + "/t1.safetensors") ==
              dl::read_file_bytes(dir + "/t2.safetensors")));
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(corrupt_idx_file_exits_1_naming_the_file) {
  const std::string dir = temp_dir("idx");
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
    fs::copy_file(std::string("/usr/share/datasets/fashion-mnist/") + f, dir + "/" + f);
  // Overwrite the training images with a gzip stream cut short after the header.
  const std::string bad = dir + "/train-images-idx3-ubyte.gz";
  gzFile g = gzopen(bad.c_str(), "wb");
  const unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28};
  gzwrite(g, hdr, 16);
  gzwrite(g, hdr, 16);
  gzclose(g);
  Run r = classify("train --quiet --data " + dir + " --model " + dir + "/m.safetensors", dir);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(lines(r.err) == 1, r.err);
  BOOST_TEST(r.err.find("train-images-idx3-ubyte.gz") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("truncated") != std::string::npos, r.err);
  BOOST_TEST(!fs::exists(dir + "/m.safetensors"));
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(truncated_checkpoint_exits_1_naming_the_file) {
  const std::string dir = temp_dir("ckpt");
  Run t = classify("train --quiet --limit 200 --epochs 1 --model " + dir + "/m.safetensors", dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  auto bytes = dl::read_file_bytes(dir + "/m.safetensors");
  dl::write_file_atomic(dir + "/cut.safetensors", bytes.data(), bytes.size() - 100);
  Run r = classify("eval --model " + dir + "/cut.safetensors", dir);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(lines(r.err) == 1, r.err);
  BOOST_TEST(r.err.rfind("error: ", 0) == 0, r.err);
  BOOST_TEST(r.err.find("cut.safetensors") != std::string::npos, r.err);
  Run m = classify("eval --model " + dir + "/missing.safetensors", dir);
  BOOST_TEST(m.status == 1);
  BOOST_TEST(m.err.find("missing.safetensors") != std::string::npos, m.err);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  const std::string dir = temp_dir("usage");
  BOOST_TEST(classify("train --no-such-flag", dir).status == 2);
  BOOST_TEST(classify("", dir).status == 2);                       // no subcommand
  BOOST_TEST(classify("train --epochs zero", dir).status == 2);
  BOOST_TEST(classify("predict", dir).status == 2);                // no image
  Run h = classify("train --help", dir);
  BOOST_TEST(h.status == 0);
  BOOST_TEST(h.out.find("--epochs") != std::string::npos);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
