// The safetensors format itself: the byte layout, a bit-exact round trip, every kind
// of damage a reader must refuse with a message naming the problem, and an
// independent reader (numpy, tools/golden/read_safetensors.py) loading detlab's file
// and writing one detlab loads. Then checkpoints of a tiny hand-made module: strict
// loading naming the missing / unexpected / misshapen tensor (model left unchanged)
// and prefix loading with its report.
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "util/files.h"

using namespace dl;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  return fs::temp_directory_path() / ("detlab_test_safetensors_" + std::to_string(::getpid()));
}

std::string temp_path(const std::string& name) {
  fs::create_directories(temp_dir());
  return (temp_dir() / name).string();
}

struct RemoveTempDir {
  ~RemoveTempDir() {
    std::error_code ec;
    fs::remove_all(temp_dir(), ec);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(RemoveTempDir);

std::vector<std::pair<std::string, Tensor>> sample() {
  return {{"conv.weight", Tensor({2, 1, 2, 2}, {1, -2, 3.5f, 4, 5, 6, 7, 1e-30f})},
          {"conv.bias", Tensor({2}, {0.25f, -0.5f})},
          {"empty", Tensor({0, 3})}};
}

// Writes `header` as a safetensors file with `data_bytes` bytes of data after it.
std::string write_raw(const std::string& name, const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header;
  out.append(data_bytes, '\0');
  const std::string path = temp_path(name);
  write_file_atomic(path, out);
  return path;
}

void expect_file_error(const std::string& path, const std::string& needle) {
  try {
    load_safetensors(path);
    BOOST_ERROR("expected FileError '" << needle << "' for " << path);
  } catch (const FileError& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find(path) != std::string::npos, m);
    BOOST_TEST(m.find(needle) != std::string::npos, m);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(safetensors)

BOOST_AUTO_TEST_CASE(layout_and_round_trip) {
  const std::string path = temp_path("rt.safetensors");
  save_safetensors(path, sample(), {{"config", R"({"channels": 2})"}, {"classes", "a,b"}});
  const std::vector<uint8_t> raw = read_file_bytes(path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(raw[i]) << (8 * i);
  BOOST_TEST((8 + n) % 8 == 0u);                       // data starts 8-byte aligned
  BOOST_TEST(raw.size() == 8 + n + (8 + 2) * 4);       // 10 floats of data
  auto header = nlohmann::json::parse(raw.begin() + 8, raw.begin() + 8 + static_cast<int64_t>(n));
  BOOST_TEST(header["conv.weight"]["dtype"] == "F32");
  BOOST_TEST(header["__metadata__"]["classes"] == "a,b");

  SafeTensors st = load_safetensors(path);
  BOOST_TEST(st.tensors.size() == 3u);
  BOOST_TEST(st.metadata.at("config") == R"({"channels": 2})");
  for (const auto& [name, t] : sample()) {
    const Tensor* got = st.find(name);
    BOOST_REQUIRE(got);
    BOOST_TEST(got->shape() == t.shape());
    // (an empty tensor has no storage: memcmp must not see its null pointer)
    BOOST_TEST((t.numel() == 0 || std::memcmp(got->data(), t.data(), sizeof(float) * t.numel()) == 0));
  }
  BOOST_TEST(st.find("missing") == nullptr);
}

BOOST_AUTO_TEST_CASE(damaged_files_name_the_problem) {
  const std::string good = temp_path("good.safetensors");
  save_safetensors(good, sample(), {});
  const std::vector<uint8_t> raw = read_file_bytes(good);

  const std::string trunc = temp_path("trunc.safetensors");
  write_file_atomic(trunc, raw.data(), raw.size() - 4);
  expect_file_error(trunc, "file truncated?");  // conv.bias's bytes [32, 40) now end at 36
  const std::string tiny = temp_path("tiny.safetensors");
  write_file_atomic(tiny, raw.data(), 5);
  expect_file_error(tiny, "shorter than the 8-byte header length");

  // Header length larger than the file.
  std::string bad(8, '\0');
  bad[0] = static_cast<char>(0xff);
  bad[1] = static_cast<char>(0xff);
  const std::string hl = temp_path("hl.safetensors");
  write_file_atomic(hl, bad + "{}");
  expect_file_error(hl, "header length 65535 but the file has 10 bytes");
  bad.assign(8, '\0');
  bad[3] = 0x0d;  // 0x0d000000 = 208 MB
  write_file_atomic(hl, bad + "{}");
  expect_file_error(hl, "header length 218103808 exceeds the format's 100 MB limit");

  expect_file_error(write_raw("json.safetensors", "{\"a\": [1, 2", 0), "corrupt safetensors header");
  expect_file_error(write_raw("dtype.safetensors",
                              R"({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4),
                    "dtype F16");
  expect_file_error(write_raw("size.safetensors",
                              R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8),
                    "shape [3] needs 12");
  expect_file_error(write_raw("oob.safetensors",
                              R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8),
                    "outside the 8 data bytes");
  expect_file_error(write_raw("overlap.safetensors",
                              R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                              12),
                    "overlaps");
  expect_file_error(write_raw("gap.safetensors",
                              R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
                    "leaves a gap");
  expect_file_error(write_raw("tail.safetensors",
                              R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8),
                    "4 trailing data bytes");
  expect_file_error(write_raw("entry.safetensors", R"({"w": {"dtype": "F32", "shape": [1]}})", 4),
                    "malformed entry");
  expect_file_error(write_raw("meta.safetensors", R"({"__metadata__": {"epochs": 3}})", 0),
                    "metadata 'epochs' is not a string");
}

// The file loads in an independent reader (numpy only) with the same values.
BOOST_AUTO_TEST_CASE(numpy_reader_loads_detlab_files) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("numpy not installed: skipping the independent-reader check");
    return;
  }
  const std::string path = temp_path("np.safetensors"), out = temp_path("np.txt");
  save_safetensors(path, sample(), {{"classes", "a,b"}});
  const std::string cmd = std::string("/usr/bin/python3 ") + DETLAB_SOURCE_DIR +
                          "/tools/golden/read_safetensors.py " + path + " > " + out;
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string text = read_file_text(out);
  // Sums: weight 1-2+3.5+4+5+6+7+1e-30 = 24.5, bias -0.25.
  BOOST_TEST(text.find("conv.weight [2, 1, 2, 2] 24.5") != std::string::npos, text);
  BOOST_TEST(text.find("conv.bias [2] -0.25") != std::string::npos, text);
  BOOST_TEST(text.find("empty [0, 3] 0") != std::string::npos, text);
  BOOST_TEST(text.find("__metadata__ classes=a,b") != std::string::npos, text);
}

// A file written by numpy with a different layout (no padding, names unsorted, data
// not in name order) loads with the same values.
BOOST_AUTO_TEST_CASE(detlab_loads_numpy_written_files) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("numpy not installed: skipping the independent-writer check");
    return;
  }
  const std::string path = temp_path("from_numpy.safetensors");
  const std::string cmd = std::string("/usr/bin/python3 ") + DETLAB_SOURCE_DIR +
                          "/tools/golden/read_safetensors.py --write " + path;
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  SafeTensors st = load_safetensors(path);
  BOOST_TEST(st.tensors.size() == 2u);
  const Tensor* w = st.find("b.weight");
  const Tensor* b = st.find("a.bias");
  BOOST_REQUIRE(w);
  BOOST_REQUIRE(b);
  BOOST_TEST(w->shape() == Shape({2, 3}));
  BOOST_TEST(w->to_vector() == std::vector<float>({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f}),
             boost::test_tools::per_element());
  BOOST_TEST(b->to_vector() == std::vector<float>({1e-3f, -7.0f}), boost::test_tools::per_element());
  BOOST_TEST(st.metadata.at("writer") == "numpy");
  BOOST_TEST(nlohmann::json::parse(st.metadata.at("config"))["channels"] == 3);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A leaf with one parameter and one buffer, both filled with known values.
struct Leaf : nn::Module {
  Leaf(const Shape& w, float fill) {
    register_parameter("weight", Tensor(w, fill));
    register_buffer("running_mean", Tensor({w[0]}, 2 * fill));
  }
  Var forward(const Var& x) override { return x; }
  std::string name() const override { return "Leaf"; }
};

// "backbone.weight", optionally "head.weight", then the buffers.
struct Net : nn::Module {
  Net(int64_t channels, int64_t classes, float fill) {
    register_module("backbone", std::make_shared<Leaf>(Shape{channels, 3}, fill));
    if (classes) register_module("head", std::make_shared<Leaf>(Shape{classes, channels}, -fill));
  }
  Var forward(const Var& x) override { return x; }
  std::string name() const override { return "Net"; }
};

std::vector<float> values(nn::Module& m) {
  std::vector<float> out;
  for (auto& p : m.named_parameters()) for (float v : p.second.value()) out.push_back(v);
  for (auto& b : m.named_buffers()) for (float v : *b.second) out.push_back(v);
  return out;
}

void expect_load_error(const std::string& path, nn::Module& m, const std::string& needle) {
  const std::vector<float> before = values(m);
  try {
    nn::load_checkpoint(path, m);
    BOOST_ERROR("expected FileError '" << needle << "' for " << path);
  } catch (const FileError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find(path) != std::string::npos, msg);
    BOOST_TEST(msg.find(needle) != std::string::npos, msg);
    BOOST_TEST(msg.find('\n') == std::string::npos, msg);  // one line
  }
  BOOST_TEST(values(m) == before, boost::test_tools::per_element());  // untouched
}

}  // namespace

BOOST_AUTO_TEST_SUITE(checkpoint_files)

BOOST_AUTO_TEST_CASE(round_trip_with_json_metadata) {
  const std::string path = temp_path("net.safetensors");
  Net a(4, 2, 0.5f), b(4, 2, 0.0f);
  a.named_parameters()[0].second.value().data()[5] = 1.0f / 3.0f;
  const std::string config = nlohmann::json{{"channels", 4}, {"classes", 2}}.dump();
  const std::string classes = nlohmann::json{"cat", "dog \"the\" 2nd"}.dump();
  nn::save_checkpoint(path, a, {{"config", config}, {"classes", classes}});
  auto meta = nn::load_checkpoint(path, b);
  BOOST_TEST(values(b) == values(a), boost::test_tools::per_element());
  BOOST_TEST(meta.at("config") == config);
  BOOST_TEST(nlohmann::json::parse(meta.at("classes"))[1] == "dog \"the\" 2nd");
  BOOST_TEST(nn::read_checkpoint_metadata(path) == meta);
  // Key order in the file: parameters then buffers, names as named_parameters() gives.
  SafeTensors st = load_safetensors(path);
  std::vector<std::string> names;
  for (auto& t : st.tensors) names.push_back(t.first);
  BOOST_TEST(names == std::vector<std::string>({"backbone.running_mean", "backbone.weight",
                                                "head.running_mean", "head.weight"}),
             boost::test_tools::per_element());
  // Saving is deterministic: the same model gives the same bytes.
  const std::string again = temp_path("net2.safetensors");
  nn::save_checkpoint(again, a, {{"config", config}, {"classes", classes}});
  BOOST_TEST((read_file_bytes(path) == read_file_bytes(again)));
}

BOOST_AUTO_TEST_CASE(strict_load_names_what_is_wrong) {
  const std::string path = temp_path("strict.safetensors");
  Net a(4, 2, 0.5f);
  nn::save_checkpoint(path, a);
  Net no_head(4, 0, 1.0f), bigger_head(4, 3, 1.0f), wide(5, 2, 1.0f);
  expect_load_error(path, no_head, "unexpected tensor 'head.running_mean'");
  expect_load_error(path, bigger_head, "tensor 'head.weight' has shape [2, 4], model expects [3, 4]");
  expect_load_error(path, wide, "tensor 'backbone.weight' has shape [4, 3], model expects [5, 3]");
  const std::string small = temp_path("small.safetensors");
  nn::save_checkpoint(small, no_head);
  expect_load_error(small, a, "missing tensor 'head.weight'");
  // A damaged file is refused before the model is touched.
  const std::vector<uint8_t> raw = read_file_bytes(path);
  const std::string cut = temp_path("cut.safetensors");
  write_file_atomic(cut, raw.data(), raw.size() - 1);
  expect_load_error(cut, bigger_head, "file truncated?");
}

BOOST_AUTO_TEST_CASE(prefix_load_reports_loaded_skipped_initialised) {
  const std::string path = temp_path("pre.safetensors");
  Net src(4, 2, 0.5f);
  nn::save_checkpoint(path, src, {{"config", "{}"}});
  Net dst(4, 7, 3.0f);  // same backbone, a new 7-class head
  auto rep = nn::load_checkpoint_prefix(path, dst, "backbone.", "backbone.");
  BOOST_TEST(rep.loaded == std::vector<std::string>({"backbone.running_mean", "backbone.weight"}),
             boost::test_tools::per_element());
  BOOST_TEST(rep.skipped == std::vector<std::string>({"head.running_mean", "head.weight"}),
             boost::test_tools::per_element());
  BOOST_TEST(rep.initialised == std::vector<std::string>({"head.weight", "head.running_mean"}),
             boost::test_tools::per_element());
  BOOST_TEST(rep.metadata.at("config") == "{}");
  BOOST_TEST(rep.str() ==
             "loaded 2 tensors, skipped 2, newly initialised 2\n"
             "  skipped: head.running_mean, head.weight\n"
             "  newly initialised: head.weight, head.running_mean");
  auto p = dst.named_parameters();
  BOOST_TEST(p[0].second.value().to_vector() == std::vector<float>(12, 0.5f),
             boost::test_tools::per_element());
  BOOST_TEST(p[1].second.value().to_vector() == std::vector<float>(28, -3.0f),  // fresh head
             boost::test_tools::per_element());

  // Renaming: the file's "backbone." tensors into a model whose backbone is "head.".
  Net as_head(2, 4, 9.0f);  // head.weight is [4, 2]; backbone.weight [2, 3] does not fit
  const std::string head_file = temp_path("head.safetensors");
  Net one(4, 0, 1.5f);      // backbone.weight [4, 3]
  nn::save_checkpoint(head_file, one);
  try {
    nn::load_checkpoint_prefix(head_file, as_head, "backbone.", "head.");
    BOOST_ERROR("shape mismatch loaded");
  } catch (const FileError& e) {
    BOOST_TEST(std::string(e.what()).find(
                   "tensor 'backbone.weight' has shape [4, 3], model's 'head.weight' expects [4, 2]") !=
                   std::string::npos,
               e.what());
  }
  BOOST_TEST(as_head.named_parameters()[1].second.value().to_vector() == std::vector<float>(8, -9.0f),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
