// The grader: runs golden cases in child processes and reports what passed.
// A case's outcome is one of
//   pass     outputs match the expected ones within the tolerance
//   fail     they don't: the first differing value is reported
//   crash    the child died of a signal (segfault, abort, ...)
//   timeout  the child ran past the case's time limit and was killed
//   error    the exercise threw (e.g. std::invalid_argument), or the case is broken
// Only "pass" earns the case's points.
#pragma once
#include <cstdio>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "grading/compare.h"
#include "grading/golden_case.h"

namespace dl::grading {

struct GradeOptions {
  std::string golden_root = "data/golden";
  std::string bin_dir;         // for end-to-end cases; default: the grader's own directory
  std::string self;            // the grader executable re-run with --run-case; default /proc/self/exe
  double time_scale = 1;       // multiplies every time limit (slow machines, sanitizers)
  int64_t memory_limit_mb = 4096;  // address space of each case (0: none; sanitizers need more)
  bool unit_only = false;      // skip end-to-end (program_metric) cases
};

struct CaseOutcome {
  std::string lesson, name, exercise, file;
  std::string description;     // the case's own words ("touching boxes")
  std::string inputs;          // its inputs: inline when short, large ones by their shape
  std::vector<std::string> uses;  // the exercises this case's exercise depends on
  std::string status;          // pass | fail | crash | timeout | error
  double points = 0, max_points = 0;
  double seconds = 0;
  std::string message;         // one line for anything but pass
  Mismatch mismatch;           // for fail
  nlohmann::json outputs;      // what the exercise returned (when it returned)
};

struct LessonReport {
  std::string lesson;
  std::vector<CaseOutcome> cases;
  double score() const;
  double max_score() const;
};

struct GradeReport {
  std::vector<LessonReport> lessons;
  double score() const;
  double max_score() const;
  int passed() const;
  int total() const;
  bool all_passed() const { return passed() == total(); }
};

// Child side (`grade --run-case FILE --result OUT`): runs the case's exercise in this
// process and writes {"outputs": ...} or {"error": "..."} to result_file. Returns the
// process exit status (0 when the result was written).
int run_case_here(const std::string& case_file, const std::string& result_file,
                  const std::string& bin_dir);

// Parent side: one case in a child process.
CaseOutcome run_case(const GoldenCase& c, const GradeOptions& options);

// Cases to grade: the given lessons (all when empty), optionally only one exercise.
// Throws FileError for an unknown lesson and std::invalid_argument for an unknown
// exercise.
std::vector<GoldenCase> select_cases(const GradeOptions& options,
                                     const std::vector<std::string>& lessons,
                                     const std::string& exercise);

// Grades the cases in order; progress (one line per case) goes to `progress` if set.
GradeReport grade_cases(const std::vector<GoldenCase>& cases, const GradeOptions& options,
                        std::FILE* progress = nullptr);

// A case's inputs in one line for a student: small values inline, large ones summarised
// by their shape ("boxes: 200 x 4 numbers, iou_threshold: 0.5").
std::string summarise_inputs(const nlohmann::json& inputs);

// The exercises a failing case depends on that fail their own cases in this report:
// the student should fix those first (empty when none does).
std::vector<std::string> failing_dependencies(const GradeReport& report, const CaseOutcome& c);

// The table per lesson and the total, as printed by bin/grade; then, when something
// fails, the exercises to fix in order (those others depend on first).
std::string format_report(const GradeReport& report);
// The LMS form; its schema is data/golden/grade_report.schema.json.
nlohmann::json report_to_json(const GradeReport& report);

// --regenerate: reruns each case on the current implementation and rewrites its
// expected outputs (bounds are kept). Returns one summary line per case; cases that
// crash, time out or throw are left untouched and reported. `ok` is false then.
std::vector<std::string> regenerate_cases(const std::vector<GoldenCase>& cases,
                                          const GradeOptions& options, bool& ok);

}  // namespace dl::grading
