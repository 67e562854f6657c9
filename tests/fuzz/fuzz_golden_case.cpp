// libFuzzer harness: the grader's golden-case files (grading/golden_case.cpp) and its
// comparison (grading/compare.cpp). A case file is either refused with dl::FileError or
// loaded; a loaded case's expected outputs match themselves, and writing them back
// (--regenerate's path) gives a file that loads to the same outputs.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "grading/compare.h"
#include "grading/golden_case.h"
#include "util/files.h"

namespace {
// load_case reads a path ({"file": ...} inputs are relative to it): one scratch folder in
// memory (tmpfs; on disk, each rewrite waits for a flush).
const std::string& scratch_case() {
  static const std::string path = [] {
    char dir[] = "/dev/shm/fuzz_golden_XXXXXX";
    if (!mkdtemp(dir)) __builtin_trap();
    return std::string(dir) + "/case.json";
  }();
  return path;
}

bool holds_null(const nlohmann::json& v) {
  if (v.is_null()) return true;
  if (v.is_structured())
    for (const auto& e : v)
      if (holds_null(e)) return true;
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_case();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  dl::grading::GoldenCase c;
  try {
    c = dl::grading::load_case(path);
  } catch (const dl::FileError&) {
    return 0;
  }
  if (dl::grading::diff_summary(c.expected, c.expected).changed != 0) __builtin_trap();
  (void)dl::grading::first_mismatch(c, c.expected);
  if (holds_null(c.expected)) return 0;  // null means NaN, which JSON writes back as null
  try {
    dl::grading::save_expected(c, c.expected);
    const dl::grading::GoldenCase back = dl::grading::load_case(path);
    if (dl::grading::diff_summary(c.expected, back.expected).changed != 0) __builtin_trap();
  } catch (const dl::FileError&) {
    __builtin_trap();  // a case that loaded must load again after its outputs are rewritten
  }
  return 0;
}
