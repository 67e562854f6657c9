// End-to-end exercise: run one of the lesson programs on its tiny configuration with
// a fixed seed and report metrics from its --json output; the case's expected values
// are bounds such as {"test_accuracy": {"at_least": 0.7}}. It checks that a student's
// changes still let the whole pipeline learn, not just that one function is right.
#include <filesystem>
#include <stdexcept>

#include "grading/child_process.h"
#include "grading/exercises.h"
#include "util/files.h"

namespace dl::grading {
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The last line of the program's stdout that parses as a JSON object.
json last_json_line(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    const std::string line = text.substr(start, end - start);
    if (!line.empty() && line[0] == '{') {
      json j = json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object()) return j;
    }
    if (start == 0) break;
    end = start - 1;
  }
  throw std::runtime_error("the program printed no JSON object on stdout (is --json given?)");
}

std::string tail(const std::string& s, size_t n) { return s.size() > n ? s.substr(s.size() - n) : s; }

json run_program_metric(const json& in, const ExerciseContext& ctx) {
  const std::string program = input(in, "program").get<std::string>();
  if (program.find('/') != std::string::npos)
    throw std::invalid_argument("input program: a name in bin/, not a path");
  const std::string path = (fs::path(ctx.bin_dir) / program).string();
  if (!fs::exists(path)) throw FileError(path, "program not found (build it first)");
  const std::string tmp = ctx.scratch + "/e2e";
  fs::create_directories(tmp);
  std::vector<std::string> argv = {path};
  // "{tmp}" in an argument is a private scratch directory: models and logs written
  // there never overwrite the student's own files.
  for (const json& a : input(in, "args")) {
    std::string s = a.get<std::string>();
    for (size_t p; (p = s.find("{tmp}")) != std::string::npos;) s.replace(p, 5, tmp);
    argv.push_back(s);
  }
  const std::string out = tmp + "/stdout.txt", err = tmp + "/stderr.txt";
  // The case's own time limit, enforced by the grader on this process's group, is the
  // real bound: the program stays in that group so the grader's kill reaches it.
  const ChildResult r = run_child(argv, out, err, 1e6, /*own_group=*/false);
  const std::string out_text = read_file_text(out), err_text = read_file_text(err);
  if (r.signal) throw std::runtime_error(program + " killed by " + signal_name(r.signal));
  if (r.exit_code != 0)
    throw std::runtime_error(program + " exited with status " + std::to_string(r.exit_code) +
                             ": " + tail(err_text, 300));
  const json j = last_json_line(out_text);
  json result = json::object();
  for (const json& m : input(in, "metrics")) {
    const std::string name = m.get<std::string>();
    if (!j.contains(name)) throw std::runtime_error(program + " --json has no \"" + name + "\"");
    result[name] = j[name];
  }
  return result;
}

}  // namespace

void add_program_exercises(std::vector<Exercise>& out) {
  out.push_back({"program_metric", "end to end: train a tiny configuration, check its metrics",
                 "the lesson's program and everything it uses", run_program_metric,
                 /*uses*/ {},
                 /*hint*/ ""});
}

}  // namespace dl::grading
