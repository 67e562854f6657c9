// nn/config_fields: a config's fields declared once write the model file's JSON and read
// it back range-checked; and the programs refuse a model file whose config asks for
// absurd sizes with exit 1 and one line naming the file (issue 23).
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/classifier.h"
#include "models/crop_classifier.h"
#include "models/deeppose.h"
#include "models/fast_rcnn.h"
#include "models/localizer.h"
#include "models/rcnn.h"
#include "models/spp_net.h"
#include "nn/checkpoint.h"
#include "nn/config_fields.h"
#include "program_checks.h"
#include "tensor/rng.h"

using json = nlohmann::json;
using dl::nn::ConfigFields;

namespace {

// One field of every kind.
struct Inner {
  int depth = 2;
  ConfigFields fields() {
    ConfigFields f("inner", "an inner model");
    f.field("depth", depth, 1, 8);
    return f;
  }
};

struct Demo {
  int size = 32;
  float rate = 0.2f;
  std::string mode = "fc";
  bool flip = true;
  std::vector<int> levels = {4, 2, 1};
  std::vector<float> scales = {1.0f, 1.5f};
  int extra = 7;  // optional: "older files" lack it
  Inner inner;
  std::vector<Inner> layers = {Inner{}, Inner{}};
  ConfigFields fields() {
    ConfigFields f("demo", "a demo model");
    f.field("size", size, 16, 1024).step(16);
    f.field("rate", rate, 0.0f, 0.99f);
    f.field("mode", mode, {"fc", "avg"});
    f.field("flip", flip);
    f.field("levels", levels, 1, 64).length(1, 4);
    f.field("scales", scales, 0.5f, 8.0f).length(1, 16);
    f.field("extra", extra, 0, 100).optional();
    f.nested("inner", inner.fields());
    f.nested_list("layers", layers).length(1, 3);
    f.constant("stride", 4);
    f.constant("scale", 0.25f);
    return f;
  }
};

json demo_json() { return json::parse(Demo().fields().to_json()); }

// The message of from_json(j), "" when it accepts j.
std::string refusal(const json& j) {
  Demo d;
  try {
    d.fields().from_json(j.dump());
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(to_json_writes_each_member_as_its_own_type) {
  // As the configs wrote their JSON by hand before: an int is an int, a float is the
  // float's exact value, constants included, nested configs nested.
  const json hand = {{"arch", "demo"},  {"size", 32},     {"rate", 0.2f},
                     {"mode", "fc"},    {"flip", true},   {"levels", std::vector<int>{4, 2, 1}},
                     {"scales", std::vector<float>{1.0f, 1.5f}},
                     {"extra", 7},      {"stride", 4},    {"scale", 0.25f},
                     {"inner", {{"arch", "inner"}, {"depth", 2}}},
                     {"layers", {{{"arch", "inner"}, {"depth", 2}}, {{"arch", "inner"}, {"depth", 2}}}}};
  BOOST_TEST(Demo().fields().to_json() == hand.dump());
  BOOST_TEST(demo_json()["size"].is_number_integer());
  BOOST_TEST(demo_json()["rate"].is_number_float());
  BOOST_TEST(demo_json()["stride"].is_number_integer());
  BOOST_TEST(demo_json()["scale"].is_number_float());
}

BOOST_AUTO_TEST_CASE(round_trip) {
  Demo a;
  a.size = 48;
  a.rate = 0.35f;
  a.mode = "avg";
  a.flip = false;
  a.levels = {6, 3};
  a.scales = {0.7f, 1.26f, 7.5f};
  a.extra = 0;
  a.inner.depth = 8;
  a.layers = {Inner{}, Inner{}, Inner{}};
  a.layers[2].depth = 5;
  Demo b;
  b.fields().from_json(a.fields().to_json());
  BOOST_TEST(b.size == 48);
  BOOST_TEST(b.rate == 0.35f);
  BOOST_TEST(b.mode == "avg");
  BOOST_TEST(b.flip == false);
  BOOST_TEST((b.levels == std::vector<int>{6, 3}));
  BOOST_TEST((b.scales == std::vector<float>{0.7f, 1.26f, 7.5f}));
  BOOST_TEST(b.extra == 0);
  BOOST_TEST(b.inner.depth == 8);
  BOOST_REQUIRE(b.layers.size() == 3u);
  BOOST_TEST(b.layers[2].depth == 5);
  BOOST_TEST(b.fields().to_json() == a.fields().to_json());
  // The largest float a field allows reads back: the range is compared as floats.
  a.rate = 0.99f;
  b.fields().from_json(a.fields().to_json());
  BOOST_TEST(b.rate == 0.99f);
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_refused_naming_the_field) {
  struct Case {
    const char* field;
    json value;
    const char* says;  // the message, from the field's name on
  };
  const std::vector<Case> cases = {
      {"size", 2000000000, "size = 2000000000, expected 16..1024 in steps of 16"},
      {"size", 0, "size = 0, expected 16..1024 in steps of 16"},
      {"size", -16, "size = -16, expected 16..1024 in steps of 16"},
      {"size", 40, "size = 40, expected 16..1024 in steps of 16"},
      {"size", 18446744073709551615ull,
       "size = 18446744073709551615, expected 16..1024 in steps of 16"},
      {"rate", 1.0, "rate = 1.0, expected 0..0.99"},
      {"rate", -0.001, "rate = -0.001, expected 0..0.99"},
      {"rate", 1e39, "rate = 1e+39, expected 0..0.99"},  // finite as a double, not a float
      {"mode", "max", "mode = \"max\", expected \"fc\" or \"avg\""},
      {"levels", json::array(), "levels = [], expected 1 to 4 integers in 1..64"},
      {"levels", {1, 2, 3, 4, 5}, "levels = [1,2,3,4,5], expected 1 to 4 integers in 1..64"},
      {"levels", {4, 65}, "levels[1] = 65, expected 1..64"},
      {"scales", {1.0, 0.25}, "scales[1] = 0.25, expected 0.5..8"},
      {"extra", 101, "extra = 101, expected 0..100"},
  };
  for (const Case& c : cases) {
    json j = demo_json();
    j[c.field] = c.value;
    const std::string e = refusal(j);
    BOOST_TEST(e == std::string("bad model config: ") + c.says, c.field << ": " << e);
  }
  json j = demo_json();
  j["inner"]["depth"] = 9;
  BOOST_TEST(refusal(j) == "bad model config: inner.depth = 9, expected 1..8");
  j = demo_json();
  j["layers"][1]["depth"] = 0;
  BOOST_TEST(refusal(j) == "bad model config: layers[1].depth = 0, expected 1..8");
  j["layers"] = json::array();
  BOOST_TEST(refusal(j) == "bad model config: layers = [], expected 1 to 3 JSON objects");
}

BOOST_AUTO_TEST_CASE(values_of_the_wrong_type_are_refused_naming_the_field) {
  const std::vector<std::pair<const char*, json>> cases = {
      {"size", "32"},   {"size", 32.0},    {"size", 32.5},  {"size", true},
      {"size", nullptr}, {"rate", "0.2"},  {"rate", json::array()},
      {"mode", 5},      {"flip", 1},       {"flip", "true"}, {"levels", 4},
      {"levels", {1.5}}, {"levels", {"4"}}, {"scales", {true}}, {"inner", 2},
      {"layers", 2},     {"layers", {2}},
  };
  for (const auto& [field, value] : cases) {
    json j = demo_json();
    j[field] = value;
    const std::string e = refusal(j);
    BOOST_TEST(starts_with(e, std::string("bad model config: ") + field), field << ": " << e);
  }
  json j = demo_json();
  j["size"] = 32.0;
  BOOST_TEST(refusal(j) ==
             "bad model config: size = 32.0, expected an integer in 16..1024 in steps of 16");
}

BOOST_AUTO_TEST_CASE(missing_fields) {
  // An optional field keeps its default; a required one is refused; an unknown one and
  // a constant are ignored.
  json j = demo_json();
  j.erase("extra");
  j.erase("stride");
  j["unknown"] = "ignored";
  Demo d;
  d.extra = 42;
  d.fields().from_json(j.dump());
  BOOST_TEST(d.extra == 42);
  for (const char* field :
       {"size", "rate", "mode", "flip", "levels", "scales", "inner", "layers"}) {
    json k = demo_json();
    k.erase(field);
    BOOST_TEST(starts_with(refusal(k), std::string("bad model config: ") + field + " missing"),
               refusal(k));
  }
  json k = demo_json();
  k["inner"].erase("depth");
  BOOST_TEST(refusal(k) == "bad model config: inner.depth missing, expected 1..8");
}

BOOST_AUTO_TEST_CASE(another_arch_or_no_json_is_refused) {
  json j = demo_json();
  j["arch"] = "fast_rcnn";
  BOOST_TEST(refusal(j) == "not a demo model (arch 'fast_rcnn')");
  j.erase("arch");
  BOOST_TEST(refusal(j) == "not a demo model (arch '?')");
  BOOST_TEST(refusal(json::array()) == "not a demo model (arch '?')");
  j = demo_json();
  j["inner"]["arch"] = "demo";
  BOOST_TEST(refusal(j) == "not an inner model (arch 'demo')");
  Demo d;
  try {
    d.fields().from_json("{\"arch\": ");
    BOOST_FAIL("a truncated config was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(starts_with(e.what(), "bad model config: "), e.what());
  }
}

// ---- the model configs ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(model_configs_round_trip_and_read_older_files) {
  using namespace dl::models;
  LocalizerConfig loc;
  loc.cls_input = "avg";
  loc.input_size = 48;
  BOOST_TEST(LocalizerConfig::from_json(loc.to_json()).to_json() == loc.to_json());
  json old = json::parse(loc.to_json());
  old.erase("cls_input");  // written before the class head could read the average
  BOOST_TEST(LocalizerConfig::from_json(old.dump()).cls_input == "fc");

  SppNetConfig spp;
  spp.scales = {0.7f, 1.0f, 1.74f};
  spp.feature_scale = 123.5f;
  BOOST_TEST(SppNetConfig::from_json(spp.to_json()).to_json() == spp.to_json());
  old = json::parse(spp.to_json());
  old.erase("scales");  // single-scale models
  old.erase("target_size");
  const SppNetConfig back = SppNetConfig::from_json(old.dump());
  BOOST_TEST((back.scales == std::vector<float>{1.0f}));
  BOOST_TEST(back.target_size == 28.0f);
  old = json::parse(spp.to_json());
  old["scales"] = {0.0, 1.0};
  BOOST_CHECK_THROW(SppNetConfig::from_json(old.dump()), std::invalid_argument);

  RcnnConfig rc;
  BOOST_TEST(RcnnConfig::from_json(rc.to_json()).to_json() == rc.to_json());
  json r = json::parse(rc.to_json());
  r["context"] = 11;  // 2 * 11 >= the 22-pixel crop: no room for the box
  try {
    RcnnConfig::from_json(r.dump());
    BOOST_FAIL("context 11 in a 22-pixel crop was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) ==
               "bad model config: context = 11, expected 0..10 for a 22-pixel crop");
  }
  r = json::parse(rc.to_json());
  r["cnn"]["input_size"] = 20;
  try {
    RcnnConfig::from_json(r.dump());
    BOOST_FAIL("a 20-pixel crop was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) ==
               "bad model config: cnn.input_size = 20, expected 18..1024 in steps of 4");
  }

  FastRcnnConfig fr;
  BOOST_TEST(FastRcnnConfig::from_json(fr.to_json()).to_json() == fr.to_json());
  BOOST_TEST(json::parse(fr.to_json())["stride"] == 4);
  CropClassifierConfig cc;
  BOOST_TEST(CropClassifierConfig::from_json(cc.to_json()).to_json() == cc.to_json());
  SmallCnnConfig sc;
  BOOST_TEST(SmallCnnConfig::from_json(sc.to_json()).to_json() == sc.to_json());

  const DeepPoseConfig dp = deeppose_config(3, 1.5f, stage1_config(), refinement_config(2));
  BOOST_TEST(DeepPoseConfig::from_json(dp.to_json()).to_json() == dp.to_json());
  json p = json::parse(dp.to_json());
  p["stages"][1]["input_size"] = 36;  // three conv blocks halve it: a multiple of 8
  try {
    DeepPoseConfig::from_json(p.dump());
    BOOST_FAIL("a 36-pixel stage with three conv blocks was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "bad model config: stages[1].input_size = 36, expected "
                                        "a multiple of 8 (3 conv blocks halve it)");
  }
  p = json::parse(dp.to_json());
  p["stages"][2]["num_joints"] = 13;
  try {
    DeepPoseConfig::from_json(p.dump());
    BOOST_FAIL("stages with different joints were accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) ==
               "bad model config: stages[2].num_joints = 13, expected 14, as stage 1's");
  }
}

// ---- the programs refuse absurd configs (issue 23) ------------------------------------

namespace {

// DIR/NAME.safetensors: `model`'s weights with its config's `field` (a JSON pointer such
// as "/cnn/num_classes") set to `value`.
template <class Model, class Config>
std::string doctored_model(const std::string& dir, const std::string& name, const Config& cfg,
                           const std::string& field, const json& value) {
  dl::Rng rng(1);
  Model model(cfg, rng);
  json config = json::parse(cfg.to_json());
  config[json::json_pointer(field)] = value;
  const std::string path = dir + "/" + name + ".safetensors";
  dl::nn::save_checkpoint(path, model, {{"config", config.dump()}, {"classes", "[]"}});
  return path;
}

}  // namespace

BOOST_AUTO_TEST_CASE(programs_refuse_absurd_model_configs_naming_the_file) {
  using namespace dl::models;
  namespace t = detlab_test;
  const std::string dir = t::temp_dir("config_fields");
  const json huge = 2000000000;
  const DeepPoseConfig pose = deeppose_config(2, 2.0f, stage1_config(), refinement_config(2));
  struct Case {
    std::string program, file, says;
  };
  const std::vector<Case> cases = {
      {"fast_rcnn",
       doctored_model<FastRcnn>(dir, "frcnn_classes", FastRcnnConfig{}, "/num_classes", huge),
       "num_classes = 2000000000"},
      {"fast_rcnn", doctored_model<FastRcnn>(dir, "frcnn_c3", FastRcnnConfig{}, "/c3", huge),
       "c3 = 2000000000"},
      {"classify_localize",
       doctored_model<Localizer>(dir, "loc_input", LocalizerConfig{}, "/input_size", huge),
       "input_size = 2000000000"},
      {"classify_localize",
       doctored_model<Localizer>(dir, "loc_classes", LocalizerConfig{}, "/num_classes", huge),
       "num_classes = 2000000000"},
      {"sliding_window",
       doctored_model<CropClassifier>(dir, "sw_input", CropClassifierConfig{}, "/input_size",
                                      huge),
       "input_size = 2000000000"},
      {"rcnn", doctored_model<RcnnModel>(dir, "rcnn_context", RcnnConfig{}, "/context", huge),
       "context = 2000000000"},
      {"rcnn",
       doctored_model<RcnnModel>(dir, "rcnn_classes", RcnnConfig{}, "/cnn/num_classes", huge),
       "cnn.num_classes = 2000000000"},
      {"spp_net", doctored_model<SppNet>(dir, "spp_c2", SppNetConfig{}, "/c2", huge),
       "c2 = 2000000000"},
      {"spp_net", doctored_model<SppNet>(dir, "spp_levels", SppNetConfig{}, "/levels/0", huge),
       "levels[0] = 2000000000"},
      {"classify",
       doctored_model<SmallCnn>(dir, "cls_in", SmallCnnConfig{}, "/in_channels", huge),
       "in_channels = 2000000000"},
      {"classify",
       doctored_model<SmallCnn>(dir, "cls_input", SmallCnnConfig{}, "/input_size", huge),
       "input_size = 2000000000"},
      {"deeppose",
       doctored_model<DeepPoseCascade>(dir, "pose_input", pose, "/stages/1/input_size", huge),
       "stages[1].input_size = 2000000000"},
      {"deeppose",
       doctored_model<DeepPoseCascade>(dir, "pose_joints", pose, "/stages/0/num_joints", huge),
       "stages[0].num_joints = 2000000000"},
  };
  for (const Case& c : cases) {
    const t::Run r = t::Program{c.program}("eval --model " + c.file, dir);
    BOOST_TEST_CONTEXT("bin/" << c.program << " eval --model " << c.file) {
      t::check_exit_1_naming(r, c.file, "bad model config: " + c.says);
    }
  }
  std::filesystem::remove_all(dir);
}
