#include "grading/grader.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "grading/child_process.h"
#include "grading/exercises.h"
#include "util/files.h"

namespace dl::grading {
using json = nlohmann::json;
namespace fs = std::filesystem;

double LessonReport::score() const {
  double s = 0;
  for (const CaseOutcome& c : cases) s += c.points;
  return s;
}
double LessonReport::max_score() const {
  double s = 0;
  for (const CaseOutcome& c : cases) s += c.max_points;
  return s;
}
double GradeReport::score() const {
  double s = 0;
  for (const LessonReport& l : lessons) s += l.score();
  return s;
}
double GradeReport::max_score() const {
  double s = 0;
  for (const LessonReport& l : lessons) s += l.max_score();
  return s;
}
int GradeReport::passed() const {
  int n = 0;
  for (const LessonReport& l : lessons)
    for (const CaseOutcome& c : l.cases) n += c.status == "pass";
  return n;
}
int GradeReport::total() const {
  int n = 0;
  for (const LessonReport& l : lessons) n += static_cast<int>(l.cases.size());
  return n;
}

int run_case_here(const std::string& case_file, const std::string& result_file,
                  const std::string& bin_dir) {
  json result;
  try {
    const GoldenCase c = load_case(case_file);
    const Exercise* e = find_exercise(c.exercise);
    if (!e) throw std::invalid_argument("unknown exercise \"" + c.exercise + "\"");
    // The result file sits in the case's private directory, removed by the parent
    // even when this process is killed.
    const std::string scratch = fs::path(result_file).parent_path().string();
    result["outputs"] = e->run(c.inputs, ExerciseContext{bin_dir, scratch.empty() ? "." : scratch});
  } catch (const std::exception& ex) {
    result = {{"error", ex.what()}};
  }
  try {
    write_file_atomic(result_file, result.dump());
  } catch (const std::exception&) {
    return 3;
  }
  return 0;
}

namespace {

std::string first_line(const std::string& s, size_t max = 160) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > max ? line.substr(0, max - 3) + "..." : line;
}

std::string last_line(const std::string& s) {
  size_t end = s.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  size_t start = s.rfind('\n', end);
  return first_line(s.substr(start == std::string::npos ? 0 : start + 1, end + 1));
}

std::string read_or_empty(const std::string& path) {
  try {
    return read_file_text(path, 1 << 20);
  } catch (const std::exception&) {
    return "";
  }
}

std::string default_self(const GradeOptions& o) { return o.self.empty() ? self_executable() : o.self; }
std::string default_bin(const GradeOptions& o) {
  return o.bin_dir.empty() ? fs::path(default_self(o)).parent_path().string() : o.bin_dir;
}

}  // namespace

CaseOutcome run_case(const GoldenCase& c, const GradeOptions& options) {
  CaseOutcome out;
  out.lesson = c.lesson;
  out.name = c.name;
  out.exercise = c.exercise;
  out.file = c.path;
  out.description = c.description;
  // Inputs are shown with a failure, so that a student can redo a small case by hand.
  out.inputs = summarise_inputs(c.inputs);
  out.uses = exercise_dependencies(c.exercise);
  out.max_points = c.points;
  if (!find_exercise(c.exercise)) {
    out.status = "error";
    out.message = "unknown exercise \"" + c.exercise + "\" (bin/grade --list shows them)";
    return out;
  }
  if (const int sig = stop_signal_received()) end_by_signal(sig);
  const std::string tmp = make_temp_dir("grade");
  const std::string result = tmp + "/result.json", log = tmp + "/child.txt";
  try {
    const ChildResult r =
        run_child({default_self(options), "--run-case", c.path, "--result", result, "--bin-dir",
                   default_bin(options)},
                  log, log, c.time_limit_s * options.time_scale, true, options.memory_limit_mb);
    if (r.stopped_by) {
      // Asked to stop (SIGTERM, Ctrl-C): the case's process group is dead; leave nothing
      // behind and end as the signal would have.
      std::error_code ec;
      fs::remove_all(tmp, ec);
      fmt::print(stderr, "\ngrade: stopped by {}; case {}/{} killed, its files removed\n",
                 signal_name(r.stopped_by), c.lesson, c.name);
      end_by_signal(r.stopped_by);
    }
    out.seconds = r.seconds;
    const std::string result_text = read_or_empty(result);
    if (r.timed_out) {
      out.status = "timeout";
      out.message = fmt::format("killed after the time limit of {:g} s (endless loop?)",
                                c.time_limit_s * options.time_scale);
    } else if (r.signal) {
      out.status = "crash";
      out.message = "crashed: " + signal_name(r.signal);
    } else if (r.exit_code != 0 || result_text.empty()) {
      out.status = "error";
      const std::string why = last_line(read_or_empty(log));
      out.message = fmt::format("exited with status {}{}", r.exit_code, why.empty() ? "" : ": " + why);
    } else {
      const json j = json::parse(result_text);
      if (j.contains("error")) {
        out.status = "error";
        out.message = "exception: " + first_line(j["error"].get<std::string>());
      } else {
        out.outputs = j["outputs"];
        out.mismatch = first_mismatch(c, out.outputs);
        out.status = out.mismatch.found ? "fail" : "pass";
        if (c.expected.empty()) {  // nothing checked must not count as a pass
          out.status = "error";
          out.message = "the case has no expected outputs (grade --regenerate LESSON)";
        } else if (out.mismatch.found)
          out.message = fmt::format("{}: expected {}, got {} ({})", out.mismatch.where,
                                    out.mismatch.expected, out.mismatch.got, out.mismatch.tolerance);
      }
    }
  } catch (const std::exception& e) {
    out.status = "error";
    out.message = first_line(e.what());
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (out.status == "pass") {
    out.points = c.points;
    // End-to-end cases: show the measured metric next to its bound.
    for (auto it = c.expected.begin(); it != c.expected.end(); ++it) {
      if (!it->is_object() || !out.outputs.contains(it.key()) || !out.outputs[it.key()].is_number()) continue;
      const std::string bound = it->contains("at_least")
                                    ? ">= " + format_number((*it)["at_least"].get<double>())
                                    : "<= " + format_number((*it)["at_most"].get<double>());
      out.message += fmt::format("{}{} = {} ({})", out.message.empty() ? "" : ", ", it.key(),
                                 format_number(out.outputs[it.key()].get<double>()), bound);
    }
  }
  return out;
}

std::vector<GoldenCase> select_cases(const GradeOptions& options,
                                     const std::vector<std::string>& lessons,
                                     const std::string& exercise) {
  if (!exercise.empty() && !find_exercise(exercise))
    throw std::invalid_argument("unknown exercise \"" + exercise + "\" (bin/grade --list shows them)");
  const std::vector<std::string> names = lessons.empty() ? list_lessons(options.golden_root) : lessons;
  std::vector<GoldenCase> cases;
  for (const std::string& l : names)
    for (GoldenCase& c : load_lesson(options.golden_root, l)) {
      if (!exercise.empty() && c.exercise != exercise) continue;
      if (options.unit_only && c.exercise == "program_metric") continue;
      cases.push_back(std::move(c));
    }
  return cases;
}

GradeReport grade_cases(const std::vector<GoldenCase>& cases, const GradeOptions& options,
                        std::FILE* progress) {
  GradeReport report;
  for (const GoldenCase& c : cases) {
    if (report.lessons.empty() || report.lessons.back().lesson != c.lesson)
      report.lessons.push_back({c.lesson, {}});
    if (progress) {
      fmt::print(progress, "  {}/{} ...", c.lesson, c.name);
      std::fflush(progress);
    }
    report.lessons.back().cases.push_back(run_case(c, options));
    if (progress) fmt::print(progress, " {}\n", report.lessons.back().cases.back().status);
  }
  return report;
}

namespace {

// "200 x 4 numbers", "tensor [1, 3, 8, 8]", "12 objects"
std::string shape_of(const json& v) {
  if (v.is_object() && v.contains("shape") && v.contains("data") && v["shape"].is_array())
    return fmt::format("tensor [{}]", fmt::join(v["shape"].get<std::vector<int64_t>>(), ", "));
  if (v.is_object()) {
    std::vector<std::string> keys;
    for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
    return fmt::format("{{{}}}", fmt::join(keys, ", "));
  }
  if (!v.is_array()) return v.dump().substr(0, 40) + "...";
  // Nested arrays: the size of each level, while every element is an array.
  std::vector<size_t> dims;
  const json* level = &v;
  while (level->is_array()) {
    dims.push_back(level->size());
    if (level->empty()) break;
    level = &(*level)[0];
  }
  const char* what = level->is_number() || level->is_null() ? "numbers"
                     : level->is_object()                  ? "objects"
                                                           : "values";
  return fmt::format("{} {}", fmt::join(dims, " x "), what);
}

// The failing exercises, those that others depend on first, each with its file.
std::string fix_order(const GradeReport& report) {
  std::vector<std::string> failing;
  std::map<std::string, int> count;
  for (const LessonReport& l : report.lessons)
    for (const CaseOutcome& c : l.cases)
      if (c.status != "pass" && count[c.exercise]++ == 0) failing.push_back(c.exercise);
  if (failing.empty()) return "";
  // An exercise comes after every failing exercise it uses (those use fewer of them).
  auto failing_deps = [&](const std::string& name) {
    int n = 0;
    for (const std::string& d : exercise_dependencies(name)) n += count.count(d) > 0;
    return n;
  };
  std::stable_sort(failing.begin(), failing.end(), [&](const std::string& a, const std::string& b) {
    return failing_deps(a) < failing_deps(b);
  });
  std::string s = "to fix, in this order:\n";
  for (const std::string& n : failing) {
    const Exercise* e = find_exercise(n);
    std::vector<std::string> deps;
    for (const std::string& d : exercise_dependencies(n))
      if (count.count(d)) deps.push_back(d);
    s += fmt::format("  {:<26} {} case{}  {}{}\n", n, count[n], count[n] == 1 ? " " : "s",
                     e ? e->source : "",
                     deps.empty() ? "" : fmt::format(" (uses {}: fix {} first)", fmt::join(deps, ", "),
                                                     deps.size() == 1 ? "that" : "those"));
  }
  return s + "\n";
}

}  // namespace

std::string summarise_inputs(const json& inputs) {
  const std::string all = inputs.dump();
  if (all.size() <= 240) return all;
  if (!inputs.is_object()) return shape_of(inputs);
  std::vector<std::string> parts;
  for (auto it = inputs.begin(); it != inputs.end(); ++it) {
    const std::string v = it->dump();
    parts.push_back(it.key() + ": " + (v.size() <= 60 ? v : shape_of(*it)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<std::string> failing_dependencies(const GradeReport& report, const CaseOutcome& c) {
  std::vector<std::string> out;
  for (const std::string& dep : c.uses) {
    bool fails = false;
    for (const LessonReport& l : report.lessons)
      for (const CaseOutcome& o : l.cases) fails = fails || (o.exercise == dep && o.status != "pass");
    if (fails) out.push_back(dep);
  }
  return out;
}

std::string format_report(const GradeReport& report) {
  std::string s;
  for (const LessonReport& l : report.lessons) {
    size_t we = 8, wc = 4;
    for (const CaseOutcome& c : l.cases) {
      we = std::max(we, c.exercise.size());
      wc = std::max(wc, c.name.size());
    }
    s += fmt::format("lesson {}\n", l.lesson);
    s += fmt::format("  {:<{}}  {:<{}}  {:<7}  {:>11}\n", "exercise", we, "case", wc, "result", "points");
    for (const CaseOutcome& c : l.cases) {
      s += fmt::format("  {:<{}}  {:<{}}  {:<7}  {:>5g} / {:<3g}\n", c.exercise, we, c.name, wc,
                       c.status == "pass" ? "PASS" : c.status == "fail" ? "FAIL" : c.status,
                       c.points, c.max_points);
      if (!c.message.empty()) s += fmt::format("      {}\n", c.message);
      // A failure says what the case is, where it lives and what went in, and which
      // file the exercise is written in.
      if (c.status != "pass") {
        s += fmt::format("      case: {}{}\n", c.description.empty() ? "" : c.description + " -- ",
                         c.file);
        if (!c.inputs.empty()) s += fmt::format("      inputs: {}\n", c.inputs);
        if (!c.uses.empty()) s += fmt::format("      also uses {}\n", fmt::join(c.uses, ", "));
        // A dependency that fails its own cases is the likelier culprit: name it first.
        for (const std::string& dep : failing_dependencies(report, c))
          if (const Exercise* d = find_exercise(dep))
            s += fmt::format("      check {} first: it fails its own cases too (edit: {})\n", dep,
                             d->source);
        if (const Exercise* e = find_exercise(c.exercise)) s += fmt::format("      edit: {}\n", e->source);
      }
    }
    s += fmt::format("  {:<{}}  {:<{}}  {:<7}  {:>5g} / {:<3g}\n\n", "lesson total", we, "", wc, "",
                     l.score(), l.max_score());
  }
  s += fix_order(report);
  const double pct = report.max_score() > 0 ? 100 * report.score() / report.max_score() : 100;
  s += fmt::format("total: {:g} / {:g} points ({:.1f}%), {} of {} cases passed\n", report.score(),
                   report.max_score(), pct, report.passed(), report.total());
  return s;
}

json report_to_json(const GradeReport& report) {
  json lessons = json::array();
  for (const LessonReport& l : report.lessons) {
    json cases = json::array();
    for (const CaseOutcome& c : l.cases) {
      json j = {{"case", c.name},         {"exercise", c.exercise}, {"file", c.file},
                {"status", c.status},     {"points", c.points},     {"max_points", c.max_points},
                {"seconds", c.seconds},   {"message", c.message}};
      if (!c.description.empty()) j["description"] = c.description;
      if (!c.uses.empty()) j["uses"] = c.uses;
      if (c.mismatch.found)
        j["mismatch"] = {{"where", c.mismatch.where},
                         {"expected", c.mismatch.expected},
                         {"got", c.mismatch.got},
                         {"tolerance", c.mismatch.tolerance}};
      cases.push_back(j);
    }
    lessons.push_back({{"lesson", l.lesson}, {"score", l.score()}, {"max_score", l.max_score()},
                       {"cases", cases}});
  }
  const double pct = report.max_score() > 0 ? 100 * report.score() / report.max_score() : 100;
  return {{"schema", "detlab-grade-report/1"},
          {"score", report.score()},
          {"max_score", report.max_score()},
          {"percent", pct},
          {"passed", report.passed()},
          {"total", report.total()},
          {"all_passed", report.all_passed()},
          {"lessons", lessons}};
}

std::vector<std::string> regenerate_cases(const std::vector<GoldenCase>& cases,
                                          const GradeOptions& options, bool& ok) {
  ok = true;
  std::vector<std::string> lines;
  for (const GoldenCase& c : cases) {
    const CaseOutcome o = run_case(c, options);
    const std::string id = c.lesson + "/" + c.name;
    const bool new_case = c.expected.empty() && !o.outputs.is_null();
    if (o.status != "pass" && o.status != "fail" && !new_case) {
      ok = false;
      lines.push_back(fmt::format("{}: NOT rewritten, {}: {}", id, o.status, o.message));
      continue;
    }
    // Bounds stay as people chose them; compare and rewrite the values only.
    json before = json::object(), after = json::object();
    for (auto it = o.outputs.begin(); it != o.outputs.end(); ++it) {
      const bool bound = c.expected.contains(it.key()) && c.expected[it.key()].is_object() &&
                         (c.expected[it.key()].contains("at_least") ||
                          c.expected[it.key()].contains("at_most"));
      if (bound) continue;
      after[it.key()] = *it;
      if (c.expected.contains(it.key())) before[it.key()] = c.expected[it.key()];
    }
    for (auto it = c.expected.begin(); it != c.expected.end(); ++it)
      if (!o.outputs.contains(it.key())) before[it.key()] = *it;
    const DiffSummary d = diff_summary(before, after);
    const bool removed = [&] {
      for (auto it = before.begin(); it != before.end(); ++it)
        if (!after.contains(it.key())) return true;
      return false;
    }();
    save_expected(c, o.outputs);
    if (c.expected.empty())
      lines.push_back(fmt::format("{}: new, {} outputs written", id, d.total));
    else if (d.changed == 0 && !removed)
      lines.push_back(fmt::format("{}: unchanged ({} values)", id, d.total));
    else
      lines.push_back(fmt::format("{}: {} of {} values changed (max |diff| {}){}{}", id, d.changed,
                                  d.total, format_number(d.max_abs),
                                  o.status == "pass" ? ", all within tolerance" : "",
                                  removed ? ", outputs removed" : ""));
  }
  return lines;
}

}  // namespace dl::grading
