// Kill safety of training: a run killed with SIGKILL and continued with --resume saves
// the same model, byte for byte, as a run never interrupted; a resume point of another
// run is refused; two runs on one model file do not both write it; an unwritable
// --model is refused before any training; the logs name the model they belong to.
#include <boost/test/unit_test.hpp>

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "nn/checkpoint.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const detlab_test::Program faster{"faster_rcnn"};
const std::string& tiny_data() { return detlab_test::tiny_scenes_once("resume_data", 16, 4); }
// Adam, dropout in the head, 5 epochs: every kind of state a resume point holds.
std::string train_args(int epochs = 5) {
  return fmt::format("train --scratch --quiet --threads 1 --epochs {} --lr 0.002 --val-images 4 --data {}",
                     epochs, tiny_data());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resume)

BOOST_AUTO_TEST_CASE(killed_then_resumed_run_saves_the_same_model) {
  const std::string dir = detlab_test::temp_dir("resume_kill");
  const std::string whole = dir + "/whole.safetensors", cut = dir + "/cut.safetensors";
  const auto r = faster(train_args() + " --model " + whole, dir);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  BOOST_TEST(!fs::exists(dir + "/whole.resume"));  // removed once the model is saved

  // The same run, killed (SIGKILL) as soon as its first resume point exists.
  const std::string cmd = fmt::format(
      "{}/faster_rcnn {} --model {} >/dev/null 2>&1 & pid=$!; n=0; "
      "while [ ! -f {}/cut.resume ] && kill -0 $pid 2>/dev/null && [ $n -lt 6000 ]; do sleep 0.01; n=$((n+1)); done; "
      "kill -9 $pid; wait $pid 2>/dev/null; exit 0",
      DETLAB_BIN_DIR, train_args(), cut, dir);
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  BOOST_REQUIRE_MESSAGE(fs::exists(dir + "/cut.resume"), "no resume point was written");
  BOOST_REQUIRE_MESSAGE(!fs::exists(cut), "the run finished before it was killed");

  const auto resumed = faster(train_args() + " --resume --model " + cut, dir);
  BOOST_REQUIRE_MESSAGE(resumed.status == 0, resumed.err);
  BOOST_TEST((dl::read_file_bytes(whole) == dl::read_file_bytes(cut)),
             "the resumed model differs from the uninterrupted one");
  BOOST_TEST(!fs::exists(dir + "/cut.resume"));
  // The logs hold all five epochs, the resumed ones included.
  BOOST_TEST(detlab_test::count_lines(dl::read_file_text(dir + "/cut.csv")) == 6);
  // The recorded training time is the whole run's: the interrupted epochs count too.
  const json run = json::parse(dl::read_file_text(dir + "/cut.train.json"));
  BOOST_REQUIRE(run.contains("resumed_epochs"));
  BOOST_TEST(run["resumed_epochs"].get<int>() >= 1);
  BOOST_TEST(run["resumed_seconds"].get<double>() > 0);
  BOOST_TEST(run["train_seconds"].get<double>() >= run["resumed_seconds"].get<double>());
  BOOST_TEST(!json::parse(dl::read_file_text(dir + "/whole.train.json")).contains("resumed_epochs"));
}

BOOST_AUTO_TEST_CASE(resume_point_of_another_run_is_refused) {
  const std::string dir = detlab_test::temp_dir("resume_other");
  const std::string model = dir + "/m.safetensors";
  // A resume point, then a resume with another --epochs: refused by name, exit 1.
  const std::string cmd = fmt::format(
      "{}/faster_rcnn {} --model {} >/dev/null 2>&1 & pid=$!; n=0; "
      "while [ ! -f {}/m.resume ] && kill -0 $pid 2>/dev/null && [ $n -lt 6000 ]; do sleep 0.01; n=$((n+1)); done; "
      "kill -9 $pid; wait $pid 2>/dev/null; exit 0",
      DETLAB_BIN_DIR, train_args(), model, dir);
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  BOOST_REQUIRE(fs::exists(dir + "/m.resume"));
  const auto r = faster(train_args(7) + " --resume --model " + model, dir);
  detlab_test::check_exit_1_naming(r, dir + "/m.resume", "other settings");
  // A corrupt resume point: one line naming it.
  dl::write_file_atomic(dir + "/m.resume", std::string("not a safetensors file"));
  detlab_test::check_exit_1_naming(faster(train_args() + " --resume --model " + model, dir),
                                   dir + "/m.resume");
}

BOOST_AUTO_TEST_CASE(second_run_on_the_same_model_stops_at_once) {
  const std::string dir = detlab_test::temp_dir("resume_lock");
  const std::string model = dir + "/m.safetensors";
  // Hold the lock as a running training would.
  const int fd = ::open((dir + "/.m.safetensors.lock").c_str(), O_RDWR | O_CREAT, 0644);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::flock(fd, LOCK_EX) == 0);
  BOOST_REQUIRE(::write(fd, "4242\n", 5) == 5);
  detlab_test::check_exit_1_naming(faster(train_args() + " --model " + model, dir), model,
                                   "another run (pid 4242)");
  ::close(fd);  // the lock goes with its holder (also on kill -9)
  const auto r = faster(train_args(1) + " --model " + model, dir);
  BOOST_TEST(r.status == 0, r.err);
}

BOOST_AUTO_TEST_CASE(unwritable_model_path_refused_before_training) {
  const std::string dir = detlab_test::temp_dir("resume_unwritable");
  dl::write_file_atomic(dir + "/file", std::string("x"));
  // A folder that is a file: refused at once, not after minutes of training.
  detlab_test::check_exit_1_naming(faster(train_args() + " --model " + dir + "/file/m.safetensors", dir),
                                   dir + "/file/m.safetensors", "cannot write");
  detlab_test::check_exit_1_naming(faster(train_args() + " --model " + dir, dir), dir, "folder");
}

BOOST_AUTO_TEST_CASE(logs_name_the_model_they_belong_to) {
  const std::string dir = detlab_test::temp_dir("resume_fingerprint");
  const std::string model = dir + "/m.safetensors";
  const auto r = faster(train_args(1) + " --model " + model, dir);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  const json run = json::parse(dl::read_file_text(dir + "/m.train.json"));
  BOOST_TEST(run["weights_fingerprint"].get<std::string>() ==
             fmt::format("{:016x}", dl::nn::weights_fingerprint(model)));
  // Another run's model beside these logs: the fingerprints differ.
  const auto r2 = faster(train_args(1) + " --seed 9 --model " + dir + "/other.safetensors", dir);
  BOOST_REQUIRE_MESSAGE(r2.status == 0, r2.err);
  BOOST_TEST(dl::nn::weights_fingerprint(dir + "/other.safetensors") != dl::nn::weights_fingerprint(model));
}

BOOST_AUTO_TEST_SUITE_END()
