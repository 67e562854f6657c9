// libFuzzer harness: the grader's golden-case files (grading/golden_case.cpp) and its
// comparison (grading/compare.cpp). A case file is either refused with dl::FileError or
// loaded; a loaded case's expected outputs match themselves, and writing them back
// (--regenerate's path) gives a file that loads to the same outputs.
#include <cstdint>
#include <cstdio>
#include <string>

#include "grading/compare.h"
#include "grading/golden_case.h"
#include "util/files.h"
#include "scratch_file.h"

namespace {

bool holds_null(const nlohmann::json& v) {
  if (v.is_null()) return true;
  if (v.is_structured())
    for (const auto& e : v)
      if (holds_null(e)) return true;
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = fuzz::scratch_path("fuzz_golden", "case.json");
  fuzz::write_scratch(path, data, size);
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
