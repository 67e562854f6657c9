#include "program_checks.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "image/image.h"
#include "nn/checkpoint.h"
#include "models/classifier.h"
#include "tensor/rng.h"
#include "util/files.h"

namespace detlab_test {

using json = nlohmann::json;

const std::string& tiny_scenes_once(const std::string& tag, int train_count, int test_count) {
  static std::map<std::string, std::string> made;
  auto it = made.find(tag);
  if (it == made.end())
    it = made.emplace(tag, make_tiny_scenes(tag, train_count, test_count)).first;
  return it->second;
}

json json_output(const Run& r) {
  BOOST_REQUIRE_MESSAGE(r.status == 0, "exit " << r.status << ": " << r.err);
  return json::parse(r.out);
}

void check_exit_1_naming(const Run& r, const std::string& file, const std::string& says) {
  BOOST_TEST(r.status == 1, "exit " << r.status << ": " << r.err);
  BOOST_TEST(r.err.find(file) != std::string::npos, r.err);
  if (!says.empty()) BOOST_TEST(r.err.find(says) != std::string::npos, r.err);
  BOOST_TEST(count_lines(r.err) == 1, r.err);
}

void check_usage_errors(const Program& p, const std::string& dir,
                        const std::vector<std::string>& args) {
  for (const std::string& a : args)
    BOOST_TEST(p(a, dir).status == 2, "bin/" << p.name << " " << a);
}

void save_classify_checkpoint(const std::string& path) {
  dl::Rng rng(1);
  dl::models::SmallCnn cnn(dl::models::SmallCnnConfig{}, rng);
  dl::nn::save_checkpoint(path, cnn,
                          {{"config", dl::models::SmallCnnConfig{}.to_json()}, {"classes", "[]"}});
}

void check_region_detector_bad_inputs(const Program& p, const std::string& data,
                                      const std::string& dir, const std::string& not_this_model) {
  check_exit_1_naming(p("eval --data " + data + " --model " + dir + "/missing.safetensors", dir),
                      "missing.safetensors");
  save_classify_checkpoint(dir + "/classify.safetensors");
  check_exit_1_naming(p("predict --model " + dir + "/classify.safetensors " + data +
                            "/test/images/000001.png",
                        dir),
                      "classify.safetensors", not_this_model);
  check_exit_1_naming(
      p("train --scratch --data " + dir + "/no_scenes --model " + dir + "/x.safetensors", dir),
      "no_scenes");
}

void check_broken_image(const Program& p, const std::string& predict_args,
                        const std::string& dir) {
  dl::write_file_atomic(dir + "/broken.png", std::string("not a png at all"));
  check_exit_1_naming(p(predict_args + " " + dir + "/broken.png", dir), "broken.png");
}

std::string train_minimal_svm_detector(const Program& p, const std::string& data,
                                       const std::string& dir) {
  const std::string model = dir + "/r.safetensors";
  const Run t = p("train --scratch --quiet --epochs 1 --steps-per-epoch 1 --batch 8 --threads 1 "
                  "--limit 3 --svm-rounds 0 --cache-dir '' --data " + data + " --model " + model,
                  dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  return model;
}

std::string make_empty_test_split(const std::string& dir, const std::string& data) {
  const std::string empty = dir + "/empty";
  std::filesystem::create_directories(empty + "/test/images");
  const json categories =
      json::parse(dl::read_file_text(data + "/test/annotations.json"))["categories"];
  dl::write_file_atomic(
      empty + "/test/annotations.json",
      json({{"images", json::array()}, {"annotations", json::array()}, {"categories", categories}})
          .dump());
  return empty;
}

json train_on_1_and_2_threads(const Program& p, const std::string& args,
                              const std::string& dir) {
  const std::string model = dir + "/m.safetensors", model2 = dir + "/m2.safetensors";
  const json j = json_output(p(args + " --json --threads 1 --model " + model, dir));
  const Run t2 = p(args + " --threads 2 --model " + model2, dir);
  BOOST_REQUIRE_MESSAGE(t2.status == 0, t2.err);
  BOOST_TEST((dl::read_file_bytes(model) == dl::read_file_bytes(model2)),
             "bin/" << p.name << ": the model files differ between 1 and 2 threads");
  BOOST_TEST(std::filesystem::exists(dir + "/m.csv"));
  BOOST_TEST(json::parse(dl::read_file_text(dir + "/m.train.json"))["train_seconds"].get<double>() >
             0);
  return j;
}

void check_ap_in_range(const json& j) {
  const double map = j["voc_map50"].get<double>(), ap = j["coco_ap"].get<double>();
  BOOST_TEST((map >= 0 && map <= 1), "mAP " << map);
  BOOST_TEST((ap >= 0 && ap <= 1), "AP " << ap);
}

json predict_tiny_scene(const Program& p, const std::string& data, const std::string& args,
                        const std::string& dir) {
  const json entry = json_output(p("predict --json --threads 1 " + args + " --out " + dir +
                                       "/pred " + data + "/test/images/000001.png",
                                   dir))[0];
  const json& dets = entry["detections"];
  BOOST_TEST(dets.size() >= 1u);
  BOOST_TEST(dets.size() <= 100u);
  for (const auto& d : dets) {
    const auto b = d["box_xyxy"];
    BOOST_TEST((b[0].get<float>() >= 0 && b[2].get<float>() <= 64 && b[0] < b[2]), d.dump());
  }
  const dl::Image annotated = dl::load_image(entry["annotated"].get<std::string>());
  BOOST_TEST(annotated.width == 6 * 64);  // small images are drawn enlarged
  return entry;
}

json bench_tiny_scenes(const Program& p, const std::string& data, const std::string& args,
                       const std::vector<std::string>& stages, const std::string& dir) {
  const json j = json_output(
      p("bench --json --threads 1 --limit 2 --data " + data + " " + args, dir));
  for (const std::string& k : stages)
    BOOST_TEST(j["seconds_per_image"][k].get<double>() >= 0, k);
  return j;
}

}  // namespace detlab_test
