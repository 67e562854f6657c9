// The safetensors format itself: the byte layout, a bit-exact round trip, every kind
// of damage a reader must refuse with a message naming the problem, and an
// independent reader (numpy, tools/golden/read_safetensors.py) loading detlab's file.
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "nn/safetensors.h"
#include "util/files.h"

using namespace dl;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("detlab_test_safetensors_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return (d / name).string();
}

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
    BOOST_TEST(std::memcmp(got->data(), t.data(), sizeof(float) * t.numel()) == 0);
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
  expect_file_error(hl, "header length");

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

BOOST_AUTO_TEST_SUITE_END()
