// TensorFlow.js weights manifests (nn/tfjs_weights.h) and bin/import_tfjs: dequantisation
// (q * scale + min) and float32/int32 passthrough on tiny hand-made manifests, the layout
// change HWIO -> OIHW / depthwise / dense, and every bad manifest refused with one line
// naming the file: missing shard, sizes that do not add up, unknown dtypes, bad shapes,
// shard paths leaving the folder.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <filesystem>
#include <map>

#include "nn/safetensors.h"
#include "nn/tfjs_weights.h"
#include "program_checks.h"
#include "run_program.h"
#include "util/files.h"

using namespace dl;
using namespace detlab_test;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> floats_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Parses `manifest` with shards served from `shards` (a missing one throws like a file).
std::vector<TfjsWeight> parse(const std::string& manifest,
                              const std::map<std::string, std::vector<uint8_t>>& shards) {
  return parse_tfjs_weights(manifest, "m.json", [&](const std::string& p) {
    auto it = shards.find(p);
    if (it == shards.end()) throw FileError(p, "no such file");
    return it->second;
  });
}

std::string refusal(const std::string& manifest,
                    const std::map<std::string, std::vector<uint8_t>>& shards) {
  try {
    parse(manifest, shards);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(dequantises_uint8_and_passes_float32_through) {
  // 3 uint8 values (q = 0, 1, 255 with scale 0.5, min -1) then 2 float32 across two shards.
  std::vector<uint8_t> a = {0, 1, 255};
  std::vector<uint8_t> f = floats_bytes({1.25f, -3.5f});
  a.insert(a.end(), f.begin(), f.begin() + 5);
  std::vector<uint8_t> b(f.begin() + 5, f.end());
  const std::string m = R"([{"paths": ["a.bin", "b.bin"], "weights": [
      {"name": "q", "shape": [3], "dtype": "float32",
       "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
      {"name": "f", "shape": [1, 2], "dtype": "float32"}]}])";
  const auto w = parse(m, {{"a.bin", a}, {"b.bin", b}});
  BOOST_REQUIRE_EQUAL(w.size(), 2u);
  BOOST_TEST(w[0].value.to_vector() == std::vector<float>({-1.0f, -0.5f, 126.5f}),
             boost::test_tools::per_element());
  BOOST_TEST(w[1].value.to_vector() == std::vector<float>({1.25f, -3.5f}),
             boost::test_tools::per_element());
  BOOST_TEST(w[1].value.shape() == Shape({1, 2}));
}

BOOST_AUTO_TEST_CASE(uint16_and_int32_and_scalars) {
  std::vector<uint8_t> s = {0x01, 0x02};  // uint16 little-endian 0x0201 = 513
  int32_t i = -7;
  s.resize(6);
  std::memcpy(s.data() + 2, &i, 4);
  const std::string m = R"([{"paths": ["s.bin"], "weights": [
      {"name": "h", "shape": [1], "dtype": "float32",
       "quantization": {"dtype": "uint16", "scale": 2.0, "min": 1.0}},
      {"name": "k", "shape": [], "dtype": "int32"}]}])";
  const auto w = parse(m, {{"s.bin", s}});
  BOOST_TEST(w[0].value[0] == 1027.0f);
  BOOST_TEST(w[1].value.numel() == 1);
  BOOST_TEST(w[1].value[0] == -7.0f);
}

BOOST_AUTO_TEST_CASE(layouts_follow_conv2d_and_linear) {
  // HWIO [kh=1, kw=2, in=2, out=3]: value = 100 * h + 10 * w + ... encoded by index.
  TfjsWeight conv{"conv/filters", "float32", {1, 2, 2, 3}, {}, Tensor({1, 2, 2, 3})};
  for (int64_t k = 0; k < 12; ++k) conv.value[k] = static_cast<float>(k);
  const Tensor oihw = to_detlab_layout(conv);
  BOOST_TEST(oihw.shape() == Shape({3, 2, 1, 2}));
  // w[o, i, 0, x] = hwio[0, x, i, o] = x * 6 + i * 3 + o
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 2; ++i)
      for (int x = 0; x < 2; ++x) BOOST_TEST(oihw.at({o, i, 0, x}) == x * 6 + i * 3 + o);
  TfjsWeight dw{"conv1/depthwise_filter", "float32", {2, 1, 3, 1}, {}, Tensor({2, 1, 3, 1})};
  for (int64_t k = 0; k < 6; ++k) dw.value[k] = static_cast<float>(k);
  const Tensor d = to_detlab_layout(dw);
  BOOST_TEST(d.shape() == Shape({3, 1, 2, 1}));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y) BOOST_TEST(d.at({c, 0, y, 0}) == y * 3 + c);
  TfjsWeight fc{"fc/weights", "float32", {2, 3}, {}, Tensor({2, 3}, {0, 1, 2, 3, 4, 5})};
  const Tensor l = to_detlab_layout(fc);
  BOOST_TEST(l.shape() == Shape({3, 2}));
  BOOST_TEST(l.at({2, 1}) == 5.0f);
  BOOST_TEST(detlab_weight_name("a/b/c") == "a.b.c");
}

BOOST_AUTO_TEST_CASE(requantize_re_rounds_onto_fewer_levels) {
  // 256 levels of scale 0.1 from -1: 8 bits gives the same values, 1 bit only the ends
  // (-1 and 24.5: 10 is nearer -1), 2 bits 4 levels 8.5 apart.
  const TfjsQuantization q{"uint8", 0.1, -1.0};
  Tensor v({4}, {-1.0f, -0.9f, 10.0f, 24.5f});
  const Tensor same = requantize(v, q, 8);
  for (int i = 0; i < 4; ++i) BOOST_TEST(same[i] == v[i], boost::test_tools::tolerance(1e-5f));
  const Tensor one = requantize(v, q, 1);
  BOOST_TEST(one.to_vector() == std::vector<float>({-1.0f, -1.0f, -1.0f, 24.5f}), boost::test_tools::per_element());
  const Tensor two = requantize(v, q, 2);
  BOOST_TEST(two[2] == 7.5f, boost::test_tools::tolerance(1e-5f));  // -1 + 8.5: nearest of -1, 7.5, 16, 24.5
}

BOOST_AUTO_TEST_CASE(bad_manifests_are_refused_naming_the_problem) {
  const std::vector<uint8_t> four(4, 7);
  const auto m1 = [](const std::string& entry, const std::string& paths = R"(["a.bin"])") {
    return R"([{"paths": )" + paths + R"(, "weights": [)" + entry + "]}]";
  };
  const std::string ok = R"({"name": "w", "shape": [4], "dtype": "float32",
      "quantization": {"dtype": "uint8", "scale": 1, "min": 0}})";
  BOOST_TEST(refusal(m1(ok), {{"a.bin", four}}).empty());
  BOOST_TEST(refusal(m1(ok), {}).find("a.bin: no such file") != std::string::npos);
  BOOST_TEST(refusal(m1(ok), {{"a.bin", std::vector<uint8_t>(5)}}).find("use 4") != std::string::npos);
  BOOST_TEST(refusal(m1(ok), {{"a.bin", std::vector<uint8_t>(3)}}).find("needs 4 bytes") != std::string::npos);
  BOOST_TEST(refusal(m1(R"({"name": "w", "shape": [1], "dtype": "float64"})"), {{"a.bin", four}})
                 .find("unknown dtype 'float64'") != std::string::npos);
  BOOST_TEST(refusal(m1(R"({"name": "w", "shape": [4], "dtype": "float32",
      "quantization": {"dtype": "int4", "scale": 1, "min": 0}})"), {{"a.bin", four}})
                 .find("unknown quantization dtype") != std::string::npos);
  BOOST_TEST(refusal(m1(R"({"name": "w", "shape": [-4], "dtype": "float32"})"), {{"a.bin", four}})
                 .find("shape size") != std::string::npos);
  BOOST_TEST(refusal(m1(R"({"name": "w", "shape": [65536, 65536], "dtype": "float32"})"), {{"a.bin", four}})
                 .find("over 2^28") != std::string::npos);
  BOOST_TEST(refusal(m1(ok, R"(["../a.bin"])"), {{"../a.bin", four}}).find("relative path") !=
             std::string::npos);
  BOOST_TEST(refusal(m1(ok, R"(["/etc/passwd"])"), {}).find("relative path") != std::string::npos);
  BOOST_TEST(refusal(m1(R"({"name": "w", "shape": [4], "dtype": "float32",
      "quantization": {"dtype": "uint8", "scale": 1e300, "min": 0}})"), {{"a.bin", four}})
                 .find("beyond float") != std::string::npos);
  // A zero-sized tensor takes no bytes (found by the fuzzer: no storage to copy into).
  BOOST_TEST(refusal(m1(R"({"name": "e", "shape": [0, 3], "dtype": "float32"}, )" + ok), {{"a.bin", four}}).empty());
  BOOST_TEST(refusal("{", {}).find("not a JSON") != std::string::npos);
  BOOST_TEST(refusal("[]", {}).find("non-empty") != std::string::npos);
  BOOST_TEST(refusal(m1(ok + "," + ok), {{"a.bin", std::vector<uint8_t>(8)}}).find("twice") !=
             std::string::npos);
  BOOST_TEST(refusal(m1(R"({"name": "w", "shape": [4], "dtype": "float32",
      "quantization": {"dtype": "uint8", "scale": "x", "min": 0}})"), {{"a.bin", four}})
                 .find("scale") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(program_writes_safetensors_and_refuses_bad_input) {
  const std::string dir = temp_dir("import_tfjs");
  write_file_atomic(dir + "/net-weights_manifest.json",
                    std::string(R"([{"paths": ["net.bin"], "weights": [
      {"name": "conv/filters", "shape": [1, 1, 2, 1], "dtype": "float32",
       "quantization": {"dtype": "uint8", "scale": 0.25, "min": -1}},
      {"name": "conv/bias", "shape": [1], "dtype": "float32"}]}])"));
  const std::vector<uint8_t> bin = {4, 12, 0, 0, 0x80, 0x3f};  // 0, 2 then 1.0f
  write_file_atomic(dir + "/net.bin", bin.data(), bin.size());
  const Program import{"import_tfjs"};
  const Run r = import(dir + "/net-weights_manifest.json --out " + dir + "/net.safetensors", dir);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  const SafeTensors st = load_safetensors(dir + "/net.safetensors");
  BOOST_REQUIRE(st.find("conv.filters") && st.find("conv.bias"));
  BOOST_TEST(st.find("conv.filters")->shape() == Shape({1, 2, 1, 1}));
  BOOST_TEST(st.find("conv.filters")->to_vector() == std::vector<float>({0.0f, 2.0f}),
             boost::test_tools::per_element());
  BOOST_TEST(st.find("conv.bias")->item() == 1.0f);
  BOOST_TEST(st.metadata.at("tfjs_quantization").find("conv.filters") != std::string::npos);

  fs::remove(dir + "/net.bin");
  check_exit_1_naming(import(dir + "/net-weights_manifest.json --out " + dir + "/x.safetensors", dir),
                      "net.bin");
  BOOST_TEST(!fs::exists(dir + "/x.safetensors"));
  check_exit_1_naming(import(dir + "/missing.json --out " + dir + "/x.safetensors", dir), "missing.json");
  check_usage_errors(import, dir, {"", dir + "/net-weights_manifest.json", "--out x.st"});
  fs::remove_all(dir);
}
