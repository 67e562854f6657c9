// grade: grades a student's changes to the library against the golden cases in
// data/golden/<lesson>/ (see lessons/00-getting-started.md).
//   bin/grade                     every lesson
//   bin/grade rcnn faster_rcnn    some lessons
//   bin/grade --exercise nms      one exercise, in whatever lesson it appears
//   bin/grade --json report.json  also write the report for an LMS ("-": JSON on stdout only)
//                                 (schema: data/golden/grade_report.schema.json)
//   bin/grade --list              exercises, the files they test, and their cases
//   bin/grade --starter DIR       the exercise files with their functions to write blanked
//   bin/grade --regenerate LESSON rewrite expected outputs from this build (instructors)
// Each case runs in its own child process (this program re-run with --run-case) with
// the case's time limit, so a crash or an endless loop fails that case only.
// Exit status: 0 when every case passes, 1 otherwise or on an error, 2 on a usage error.
#include <fmt/core.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "grading/child_process.h"
#include "grading/exercises.h"
#include "grading/grader.h"
#include "grading/starter.h"
#include "lessons/common/cli.h"
#include "util/files.h"

using namespace dl;
using namespace dl::grading;

namespace {

int list(const GradeOptions& o, const std::vector<std::string>& lessons) {
  std::map<std::string, std::vector<std::string>> where;
  for (const GoldenCase& c : select_cases(o, lessons, ""))
    where[c.exercise].push_back(c.lesson + "/" + c.name);
  fmt::print("exercises (the file to edit, then the golden cases that check it):\n");
  for (const Exercise& e : exercise_registry()) {
    fmt::print("  {:<26} {}\n  {:<26} edit: {}\n", e.name, e.concept, "", e.source);
    if (!e.uses.empty()) fmt::print("  {:<26} also uses: {}\n", "", fmt::join(e.uses, ", "));
    const auto& cases = where[e.name];
    fmt::print("  {:<26} cases ({}): {}\n\n", "", cases.size(),
               cases.empty() ? std::string("none yet") : fmt::format("{}", fmt::join(cases, " ")));
  }
  return 0;
}

// The sources are the repository's: the working directory's src/, else the one above bin/.
int starter(const std::string& dir) {
  namespace fs = std::filesystem;
  std::string root = ".";
  if (!fs::is_directory("src/grading")) {
    const fs::path beside = fs::path(self_executable()).parent_path().parent_path();
    if (fs::is_directory(beside / "src/grading")) root = beside.string();
    else throw std::runtime_error("grade --starter: run it from the repository's root (no src/ here)");
  }
  // A student may have started writing in there: never overwrite.
  if (fs::exists(dir) && !(fs::is_directory(dir) && fs::is_empty(dir)))
    throw FileError(dir, "exists and is not empty (the starter never overwrites files)");
  const std::vector<StarterFile> files = write_starter(root, dir);
  for (const StarterFile& f : files)
    fmt::print("{}/{}  ({})\n", dir, f.file, fmt::join(f.exercises, ", "));
  fmt::print("{}/README.md: how to grade them\n", dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"grade: check the library against the lessons' golden cases"};
  GradeOptions o;
  std::vector<std::string> lessons;
  std::string exercise, json_file, run_case_file, result_file, starter_dir;
  bool regenerate = false, do_list = false, quiet = false;
  app.option("lessons", lessons, "lessons to grade (folders of data/golden; default: all)");
  app.option("--exercise", exercise, "grade only the cases of this exercise");
  app.option("--json", json_file, "also write the report as JSON to this file ('-': only the JSON, on stdout)");
  app.option("--golden", o.golden_root, "folder of the lessons' golden cases")
      .show_default();
  app.option("--bin-dir", o.bin_dir, "where the lesson programs are (default: next to grade)");
  app.option("--time-scale", o.time_scale, "multiply every time limit (slow machines)")
      .positive();
  app.option("--memory-limit", o.memory_limit_mb,
             "address-space limit of each case in MB (0: none)").range(int64_t{0}, int64_t{1} << 30)
      .show_default();
  app.flag("--unit-only", o.unit_only, "skip the end-to-end (training) cases");
  app.flag("--regenerate", regenerate,
           "rewrite the expected outputs from this build and print what changed");
  app.flag("--list", do_list, "list the exercises and their cases");
  app.option("--starter", starter_dir,
             "write the exercise files with the functions to write blanked (a TODO and the "
             "hint) into this folder, with a README saying how to grade them");
  app.flag("--quiet", quiet, "no progress lines on stderr");
  // The child side of the sandbox: not for people.
  app.option("--run-case", run_case_file, "the golden case file to run here").hidden();
  app.option("--result", result_file, "where the case writes its result").hidden();

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  if (run_case_file.empty()) stop_on_signals();
  if (!run_case_file.empty()) {
    if (result_file.empty()) {
      fmt::print(stderr, "grade --run-case needs --result FILE\n");
      return 2;
    }
    return run_case_here(run_case_file, result_file, o.bin_dir);
  }
  if (regenerate && lessons.empty()) {
    fmt::print(stderr, "grade --regenerate: name the lesson(s) to rewrite\n");
    return 2;
  }
  // Run from elsewhere than the repository root: the cases next to bin/.
  if (o.golden_root == "data/golden" && !std::filesystem::is_directory(o.golden_root)) {
    const auto beside = std::filesystem::path(self_executable()).parent_path().parent_path() / "data/golden";
    if (std::filesystem::is_directory(beside)) o.golden_root = beside.string();
  }
  return cli::run_guarded([&] {
    if (do_list) return list(o, lessons);
    if (!starter_dir.empty()) return starter(starter_dir);
    const std::vector<GoldenCase> cases = select_cases(o, lessons, exercise);
    if (cases.empty()) throw std::runtime_error("no golden cases selected");
    if (regenerate) {
      bool ok = true;
      for (const std::string& line : regenerate_cases(cases, o, ok)) fmt::print("{}\n", line);
      return ok ? 0 : 1;
    }
    const GradeReport report = grade_cases(cases, o, quiet ? nullptr : stderr);
    // "--json -": the JSON alone on stdout, as every other program's --json prints it.
    if (json_file == "-") {
      fmt::print("{}\n", report_to_json(report).dump());
    } else {
      fmt::print("{}", format_report(report));
      if (!json_file.empty()) write_file_atomic(json_file, report_to_json(report).dump(2) + "\n");
    }
    return report.all_passed() ? 0 : 1;
  });
}
