// bin/grade: comparison rules, the report schema, the committed golden cases against
// the reference implementation (100%, so they never drift silently), --regenerate,
// and graders built from deliberately broken copies of library files, which must
// lose exactly the points of the cases those bugs break while the rest is graded.
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "grading/compare.h"
#include "grading/exercises.h"
#include "grading/golden_case.h"
#include "run_program.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl::grading;

namespace {

GoldenCase make_case(json expected, Tolerance tol) {
  GoldenCase c;
  c.exercise = "x";
  c.expected = std::move(expected);
  c.tolerance = tol;
  return c;
}

// ---- a small validator for the subset of JSON Schema the report schema uses ------
void validate(const json& v, const json& schema, const std::string& where,
              std::vector<std::string>& errors) {
  auto fail = [&](const std::string& what) { errors.push_back(where + ": " + what); };
  if (schema.contains("const") && v != schema["const"]) fail("not " + schema["const"].dump());
  if (schema.contains("enum")) {
    bool found = false;
    for (const json& e : schema["enum"]) found = found || e == v;
    if (!found) fail(v.dump() + " not in " + schema["enum"].dump());
  }
  if (schema.contains("type")) {
    const std::string t = schema["type"];
    const bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
                    (t == "string" && v.is_string()) || (t == "boolean" && v.is_boolean()) ||
                    (t == "number" && v.is_number()) ||
                    (t == "integer" && (v.is_number_integer() ||
                                        (v.is_number() && v.get<double>() == std::floor(v.get<double>()))));
    if (!ok) return fail("expected " + t + ", got " + v.dump().substr(0, 40));
  }
  if (v.is_number()) {
    if (schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>()) fail("below minimum");
    if (schema.contains("maximum") && v.get<double>() > schema["maximum"].get<double>()) fail("above maximum");
  }
  if (v.is_object()) {
    for (const json& r : schema.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) fail("missing " + r.get<std::string>());
    const json props = schema.value("properties", json::object());
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (props.contains(it.key())) validate(*it, props[it.key()], where + "." + it.key(), errors);
      else if (schema.contains("additionalProperties") && !schema["additionalProperties"].get<bool>())
        fail("unexpected property " + it.key());
    }
  }
  if (v.is_array() && schema.contains("items"))
    for (size_t i = 0; i < v.size(); ++i)
      validate(v[i], schema["items"], where + "[" + std::to_string(i) + "]", errors);
}

void check_schema(const json& report) {
  const json schema = json::parse(dl::read_file_text(std::string(DETLAB_SOURCE_DIR) +
                                                     "/data/golden/grade_report.schema.json"));
  std::vector<std::string> errors;
  validate(report, schema, "report", errors);
  for (const std::string& e : errors) BOOST_ERROR(e);
  BOOST_TEST(errors.empty());
}

struct GradeRun {
  int status = -1;
  json report;
  std::string out;
};

// Runs a grader (bin/grade or a variant) with its JSON report in dir.
GradeRun run_grader(const std::string& exe, const std::string& args, const std::string& dir) {
  const std::string report = dir + "/report.json";
  fs::remove(report);
  const std::string cmd = exe + " " + args + " --quiet --json " + report + " >" + dir +
                          "/out.txt 2>" + dir + "/err.txt";
  const int rc = std::system(cmd.c_str());
  GradeRun r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = dl::read_file_text(dir + "/out.txt") + dl::read_file_text(dir + "/err.txt");
  if (fs::exists(report)) r.report = json::parse(dl::read_file_text(report));
  return r;
}

// The full reference run (with the end-to-end training case) is the slowest part:
// it starts once, in the background, as soon as any test needs it.
std::shared_future<GradeRun> reference_run() {
  static std::shared_future<GradeRun> f = std::async(std::launch::async, [] {
    const std::string dir = detlab_test::temp_dir("grade_reference");
    return run_grader(std::string(DETLAB_BIN_DIR) + "/grade", "", dir);
  }).share();
  return f;
}

int count_case_files() {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(std::string(DETLAB_SOURCE_DIR) + "/data/golden"))
    if (e.is_regular_file() && e.path().extension() == ".json" &&
        e.path().parent_path().parent_path() == fs::path(DETLAB_SOURCE_DIR) / "data/golden")
      n += 1;
  return n;
}

// ---- broken variants: a library file copied, patched and linked before libdetlab.a --
// A variant breaks one exercise's code. Which cases it may fail is learned from the
// golden cases and the registry: the exercise's own cases, and the cases of exercises
// that use it (Exercise::uses). Every other case must pass.
struct Variant {
  std::string name, source, anchor, replacement;
  std::string exercise;            // whose code the bug is in
  std::string status;              // what its failing cases report
  std::set<std::string> blind;     // own cases ("lesson/case") this bug cannot change
};

struct CaseInfo {
  std::string exercise;
  std::vector<std::string> uses;   // the exercise's dependencies, transitively
};

// Every committed case, "lesson/case" -> its exercise and what that exercise uses.
std::map<std::string, CaseInfo> golden_cases() {
  std::map<std::string, CaseInfo> out;
  const std::string root = std::string(DETLAB_SOURCE_DIR) + "/data/golden";
  for (const std::string& lesson : list_lessons(root))
    for (const GoldenCase& c : load_lesson(root, lesson))
      out[lesson + "/" + c.name] = {c.exercise, exercise_dependencies(c.exercise)};
  return out;
}

bool uses_any(const CaseInfo& c, const std::set<std::string>& exercises) {
  for (const std::string& u : c.uses)
    if (exercises.count(u)) return true;
  return false;
}

std::string build_dir() { return fs::read_symlink("/proc/self/exe").parent_path().parent_path().string(); }

// The compile command CMake used for `source` (from compile_commands.json), with `opt`
// in place of its optimisation level, compiling `input` to `output`.
std::string compile_command(const json& db, const std::string& source, const std::string& input,
                            const std::string& output, const std::string& opt = "-O1") {
  for (const json& e : db) {
    if (e["file"].get<std::string>() != source) continue;
    std::istringstream in(e["command"].get<std::string>());
    std::string word, cmd;
    bool skip = false;
    while (in >> word) {
      if (skip) { skip = false; continue; }
      if (word == "-o" || word == "-c") { skip = true; continue; }
      if (word.rfind("-O", 0) == 0) word = opt;
      cmd += word + " ";
    }
    return cmd + "-c " + input + " -o " + output;
  }
  BOOST_FAIL("no compile command for " + source + " in compile_commands.json");
  return "";
}

// The object file CMake built for `source`.
std::string object_of(const json& db, const std::string& source) {
  for (const json& e : db) {
    if (e["file"].get<std::string>() != source) continue;
    std::istringstream in(e["command"].get<std::string>());
    std::string word;
    while (in >> word)
      if (word == "-o" && in >> word) return (fs::path(e["directory"].get<std::string>()) / word).string();
  }
  return "";
}

// Builds a grader whose copy of library file `source` is `text` (compiled as CMake
// compiles it, at `opt`): objects named on the command line win over the archive's copy
// of the same file (that member is never pulled in: nothing is left undefined that it
// defines). Returns "" or what went wrong.
std::string build_grader(const std::string& name, const std::string& source, const std::string& text,
                         const std::string& dir, const std::string& opt) {
  const std::string build = build_dir(), src = DETLAB_SOURCE_DIR;
  const json db = json::parse(dl::read_file_text(build + "/compile_commands.json"));
  const std::string grade_obj = object_of(db, src + "/src/tools/grade.cpp");
  if (!fs::exists(grade_obj)) return "grade's object file not found: " + grade_obj;
  const std::string cpp = dir + "/" + name + ".cpp", obj = dir + "/" + name + ".o";
  dl::write_file_atomic(cpp, text);
  const std::string compile = compile_command(db, src + "/" + source, cpp, obj, opt);
  const std::string link = "c++ -fopenmp -o " + dir + "/grade_" + name + " " + grade_obj + " " + obj +
                           " " + build + "/libdetlab.a -lfmt -lz";
  const std::string log = dir + "/" + name + ".log";
  if (std::system((compile + " >" + log + " 2>&1").c_str()) != 0 ||
      std::system((link + " >>" + log + " 2>&1").c_str()) != 0)
    return "building " + name + " failed: " + dl::read_file_text(log);
  return "";
}

// Builds every (name, source, text) two at a time (the compile is the slow part).
void build_graders(const std::vector<std::array<std::string, 3>>& jobs, const std::string& dir,
                   const std::string& opt) {
  for (size_t i = 0; i < jobs.size(); i += 2) {
    auto a = std::async(std::launch::async, build_grader, jobs[i][0], jobs[i][1], jobs[i][2], dir, opt);
    const std::string eb = i + 1 < jobs.size() ? build_grader(jobs[i + 1][0], jobs[i + 1][1], jobs[i + 1][2], dir, opt) : "";
    const std::string ea = a.get();
    BOOST_REQUIRE_MESSAGE(ea.empty(), ea);
    BOOST_REQUIRE_MESSAGE(eb.empty(), eb);
  }
}

// Grades the unit cases with a variant grader and checks its report against what the
// golden cases say: the cases of `exercises` fail (but those in `blind`), with `status`
// (any failing status when empty); the cases of exercises that use one of them may
// fail, and then the report points at the broken exercise first; all others pass.
void check_variant(const GradeRun& r, const std::set<std::string>& exercises, const std::string& status,
                   const std::set<std::string>& blind) {
  static const std::map<std::string, CaseInfo> cases = golden_cases();
  BOOST_TEST(r.status == 1);
  BOOST_REQUIRE(r.report.is_object());
  check_schema(r.report);
  double lost = 0, max = 0;
  int own_failed = 0;
  for (const json& l : r.report["lessons"])
    for (const json& c : l["cases"]) {
      const std::string id = l["lesson"].get<std::string>() + "/" + c["case"].get<std::string>();
      max += c["max_points"].get<double>();
      BOOST_REQUIRE_MESSAGE(cases.count(id), id);
      const CaseInfo& info = cases.at(id);
      const bool own = exercises.count(info.exercise) > 0;
      const bool failed = c["status"] != "pass";
      if (failed) lost += c["max_points"].get<double>();
      BOOST_TEST(c["points"] == (failed ? 0.0 : c["max_points"].get<double>()));
      if (own && !blind.count(id)) {
        BOOST_TEST(failed, id << " passed");
      } else if (!own && !uses_any(info, exercises)) {
        BOOST_TEST(!failed, id << " (" << info.exercise << " uses none of the broken exercises): "
                                << c["status"] << " " << c["message"]);
      } else if (own) {
        BOOST_TEST(!failed, id << " is listed as blind to this bug but failed");
      }
      if (!failed) continue;
      own_failed += own;
      if (!status.empty()) BOOST_TEST(c["status"] == status, id << ": " << c["status"] << " " << c["message"]);
      // The text report says which case, where it lives and what to edit; a dependent
      // case names the exercise it also uses and says to check it first.
      const std::string file = c["file"].get<std::string>();
      BOOST_TEST(r.out.find(file + "\n") != std::string::npos, id << " not named in\n" << r.out);
      const Exercise* e = find_exercise(c["exercise"].get<std::string>());
      BOOST_REQUIRE(e);
      BOOST_TEST(r.out.find("      edit: " + e->source) != std::string::npos);
      if (!own)
        for (const std::string& broken : exercises)
          if (std::find(info.uses.begin(), info.uses.end(), broken) != info.uses.end()) {
            BOOST_TEST(c["uses"].dump().find("\"" + broken + "\"") != std::string::npos, id);
            BOOST_TEST(r.out.find("      check " + broken + " first: it fails its own cases too") !=
                           std::string::npos, id);
          }
    }
  BOOST_TEST(own_failed > 0, "no case of the broken exercise failed");
  BOOST_TEST(r.report["score"].get<double>() == max - lost);
}

// Grades the unit cases with each variant grader dir/grade_NAME, two at a time, each in
// its own folder; time limits cut to a tenth (1 s) so that an endless loop costs little.
std::map<std::string, GradeRun> grade_variants(const std::vector<std::string>& names, const std::string& dir) {
  auto grade = [&](const std::string& name) {
    const std::string vdir = dir + "/" + name + "_run";
    fs::create_directories(vdir);
    return run_grader(dir + "/grade_" + name, "--unit-only --time-scale 0.1", vdir);
  };
  std::map<std::string, GradeRun> out;
  for (size_t i = 0; i < names.size(); i += 2) {
    auto a = std::async(std::launch::async, grade, names[i]);
    if (i + 1 < names.size()) out[names[i + 1]] = grade(names[i + 1]);
    out[names[i]] = a.get();
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grade)

BOOST_AUTO_TEST_CASE(start_reference_run) {
  reference_run();  // kicks off the slow run so the tests below overlap with it
  BOOST_TEST(fs::exists(std::string(DETLAB_BIN_DIR) + "/grade"));
}

BOOST_AUTO_TEST_CASE(every_exercise_names_an_existing_file_and_function) {
  // "src/detection/nms.cpp (nms)": the file a student opens exists and holds the function.
  for (const Exercise& e : exercise_registry()) {
    const std::string src = e.source;
    const size_t at = src.find("src/");
    if (at == std::string::npos) continue;  // the end-to-end exercise names a program
    const size_t end = src.find_first_of(" ,", at);
    const std::string file = src.substr(at, end == std::string::npos ? std::string::npos : end - at);
    BOOST_TEST_CONTEXT(e.name << ": " << src) {
      BOOST_REQUIRE(fs::exists(std::string(DETLAB_SOURCE_DIR) + "/" + file));
      const size_t open = src.find('(', at), close = src.find(')', at);
      if (open != std::string::npos && close != std::string::npos) {
        const std::string text = dl::read_file_text(std::string(DETLAB_SOURCE_DIR) + "/" + file);
        std::stringstream names(src.substr(open + 1, close - open - 1));
        for (std::string function; std::getline(names >> std::ws, function, ',');) {
          // "similarity_*": some function of that prefix.
          const bool prefix = !function.empty() && function.back() == '*';
          const std::string look = prefix ? function.substr(0, function.size() - 1) : function + "(";
          BOOST_TEST(text.find(look) != std::string::npos, function << " not in " << file);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(uses_name_registered_exercises_without_cycles) {
  for (const Exercise& e : exercise_registry())
    for (const std::string& u : e.uses) {
      BOOST_TEST(find_exercise(u) != nullptr, e.name << " uses unknown exercise " << u);
      BOOST_TEST(u != e.name);
    }
  for (const Exercise& e : exercise_registry()) {
    const std::vector<std::string> deps = exercise_dependencies(e.name);
    BOOST_TEST((std::find(deps.begin(), deps.end(), e.name) == deps.end()), e.name << " depends on itself");
  }
  // Transitive: the proposal layer runs NMS, which runs IoU.
  const std::vector<std::string> p = exercise_dependencies("proposal_layer");
  BOOST_TEST((std::find(p.begin(), p.end(), "box_iou") != p.end()));
}

// A failing case shows its description, its golden file, its inputs (small ones inline,
// large ones by shape), the first wrong value and the exercises it also uses.
BOOST_AUTO_TEST_CASE(failure_shows_description_inputs_and_golden_file) {
  const std::string dir = detlab_test::temp_dir("grade_feedback");
  fs::remove_all(dir);
  fs::create_directories(dir + "/golden/rcnn");
  const std::string src = std::string(DETLAB_SOURCE_DIR) + "/data/golden/rcnn/";
  json small = json::parse(dl::read_file_text(src + "nms_basic.json"));
  json large = json::parse(dl::read_file_text(src + "nms_random.json"));
  small["expected"]["keep"].push_back(99);
  large["expected"]["keep"][0] = 99;
  dl::write_file_atomic(dir + "/golden/rcnn/nms_basic.json", small.dump());
  dl::write_file_atomic(dir + "/golden/rcnn/nms_random.json", large.dump());
  const GradeRun r = run_grader(std::string(DETLAB_BIN_DIR) + "/grade --golden " + dir + "/golden", "rcnn", dir);
  BOOST_TEST(r.status == 1);
  const std::string golden = dir + "/golden/rcnn/";
  BOOST_TEST(r.out.find("      case: " + small["description"].get<std::string>() + " -- " + golden +
                        "nms_basic.json\n") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("      inputs: " + small["inputs"].dump() + "\n") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("      keep (length): expected ") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("      case: " + large["description"].get<std::string>() + " -- " + golden +
                        "nms_random.json\n") != std::string::npos, r.out);
  const size_t n = large["inputs"]["boxes"].size();
  BOOST_TEST(r.out.find("      inputs: boxes: " + std::to_string(n) + " x 4 numbers, iou_threshold: " +
                        large["inputs"]["iou_threshold"].dump() + ", scores: " + std::to_string(n) +
                        " numbers\n") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("keep[0]: expected 99, got ") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("      also uses box_iou\n") != std::string::npos, r.out);
  // box_iou was not graded here: nothing says it fails.
  BOOST_TEST(r.out.find("check box_iou first") == std::string::npos, r.out);
  BOOST_TEST(r.out.find("to fix, in this order:\n  nms ") != std::string::npos, r.out);
  for (const json& c : r.report["lessons"][0]["cases"])
    if (c["status"] != "pass") BOOST_TEST(c["uses"] == json::array({"box_iou"}));
  check_schema(r.report);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(tolerance_and_first_difference) {
  GoldenCase c = make_case({{"v", {1.0, 2.0, 3.0}}}, {1e-3, 1e-2});
  BOOST_TEST(!first_mismatch(c, {{"v", {1.0005, 2.02, 3.0}}}).found);  // 2.02: 0.02 <= 1e-3 + 0.02
  Mismatch m = first_mismatch(c, {{"v", {1.0, 2.03, 4.0}}});
  BOOST_TEST(m.found);
  BOOST_TEST(m.where == "v[1]");
  BOOST_TEST(m.expected == "2");
  BOOST_TEST(m.got == "2.03");
  BOOST_TEST(m.tolerance == "abs 0.001 + rel 0.01");
  // Exact: kept indices; a missing trailing element is reported as a length.
  GoldenCase e = make_case({{"keep", {3, 1}}}, {});
  BOOST_TEST(first_mismatch(e, {{"keep", {3}}}).where == "keep (length)");
  BOOST_TEST(first_mismatch(e, {{"keep", {3, 2}}}).where == "keep[1]");
  BOOST_TEST(first_mismatch(e, {{"keep", {3, 1}}}).found == false);
  BOOST_TEST(first_mismatch(e, json::object()).got == "(missing)");
  // null is NaN and only matches NaN.
  GoldenCase n = make_case({{"p", {nullptr, 1.0}}}, {1, 1});
  BOOST_TEST(!first_mismatch(n, {{"p", {nullptr, 1.5}}}).found);
  BOOST_TEST(first_mismatch(n, {{"p", {0.0, 1.0}}}).where == "p[0]");
  // Tensors are reported by multi-index.
  GoldenCase t = make_case({{"y", {{"shape", {2, 3}}, {"data", {0, 0, 0, 0, 0, 0}}}}}, {});
  BOOST_TEST(first_mismatch(t, {{"y", {{"shape", {2, 3}}, {"data", {0, 0, 0, 0, 7, 0}}}}}).where == "y[1, 1]");
  BOOST_TEST(first_mismatch(t, {{"y", {{"shape", {3, 2}}, {"data", {0, 0, 0, 0, 0, 0}}}}}).where == "y (shape)");
  // Bounds for end-to-end metrics.
  GoldenCase b = make_case({{"acc", {{"at_least", 0.7}}}}, {});
  BOOST_TEST(!first_mismatch(b, {{"acc", 0.7}}).found);
  BOOST_TEST(first_mismatch(b, {{"acc", 0.69}}).expected == ">= 0.7");
  // Per-output overrides.
  GoldenCase o = make_case({{"a", 1.0}, {"b", 1.0}}, {0.1, 0});
  o.output_tolerance = {{"b", Tolerance{}}};
  BOOST_TEST(!first_mismatch(o, {{"a", 1.05}, {"b", 1.0}}).found);
  BOOST_TEST(first_mismatch(o, {{"a", 1.0}, {"b", 1.05}}).where == "b");
}

BOOST_AUTO_TEST_CASE(malformed_case_names_the_file) {
  const std::string dir = detlab_test::temp_dir("grade_bad_case");
  dl::write_file_atomic(dir + "/bad.json", R"({"inputs": {}})");
  BOOST_CHECK_EXCEPTION(load_case(dir + "/bad.json"), dl::FileError, [&](const dl::FileError& e) {
    return std::string(e.what()).find("bad.json") != std::string::npos &&
           std::string(e.what()).find("exercise") != std::string::npos;
  });
  dl::write_file_atomic(dir + "/bad.json", R"({"exercise": "nms", "inputs": {}, "tolerance": "loose"})");
  BOOST_CHECK_THROW(load_case(dir + "/bad.json"), dl::FileError);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(regenerate_rewrites_and_summarises) {
  const std::string dir = detlab_test::temp_dir("grade_regen");
  fs::remove_all(dir);
  fs::create_directories(dir + "/golden/rcnn");
  const std::string src = std::string(DETLAB_SOURCE_DIR) + "/data/golden/rcnn/";
  fs::copy_file(src + "nms_basic.json", dir + "/golden/rcnn/nms_basic.json");
  json c = json::parse(dl::read_file_text(src + "encode_weights.json"));
  c["expected"]["deltas"][0][0] = 4.0;   // drifted: the reference gives 5
  dl::write_file_atomic(dir + "/golden/rcnn/encode_weights.json", c.dump());
  const std::string grade = std::string(DETLAB_BIN_DIR) + "/grade --golden " + dir + "/golden ";
  GradeRun before = run_grader(grade, "rcnn", dir);
  BOOST_TEST(before.status == 1);
  BOOST_TEST(before.report["passed"] == 1);
  BOOST_TEST(before.out.find("deltas[0][0]: expected 4, got 5") != std::string::npos, before.out);
  const detlab_test::Run regen = detlab_test::run_program("grade", "--golden " + dir + "/golden --regenerate rcnn", dir);
  BOOST_TEST(regen.status == 0);
  BOOST_TEST(regen.out.find("rcnn/encode_weights: 1 of 4 values changed (max |diff| 1)") != std::string::npos, regen.out);
  BOOST_TEST(regen.out.find("rcnn/nms_basic: unchanged") != std::string::npos, regen.out);
  GradeRun after = run_grader(grade, "rcnn", dir);
  BOOST_TEST(after.status == 0);
  BOOST_TEST(after.report["percent"] == 100.0);
  fs::remove_all(dir);
}


BOOST_AUTO_TEST_CASE(broken_variants_lose_exactly_their_cases) {
  const std::string src = DETLAB_SOURCE_DIR;
  BOOST_REQUIRE_MESSAGE(fs::exists(build_dir() + "/libdetlab.a"), "libdetlab.a not found in " + build_dir());
  // Each bug, the exercise whose code it is in, and that exercise's cases it cannot
  // change (iou_empty has no pair of boxes; nms_ge changes only exact ties with the
  // threshold). The cases of other exercises it may break are learned from `uses`.
  const std::vector<Variant> variants = {
      {"iou_plus_one", "src/detection/boxes.cpp", "const float inter = box_area(intersect_boxes(a, b));",
       "const Box i_ = intersect_boxes(a, b);\n  const float inter = (i_.x2 > i_.x1 && i_.y2 > i_.y1) ? "
       "(i_.width() + 1) * (i_.height() + 1) : 0.0f;",
       "box_iou", "fail", {"classify_localize/iou_empty"}},
      {"nms_ge", "src/detection/nms.cpp", ") > iou_threshold", ") >= iou_threshold", "nms", "fail",
       {"rcnn/nms_basic", "rcnn/nms_empty", "rcnn/nms_per_class", "rcnn/nms_random", "rcnn/nms_ties"}},
      {"encode_segfault", "src/detection/box_coder.cpp", "  check_positive(reference, \"encode_box\", \"reference\");",
       "  { volatile int* p = nullptr; *p = 1; }\n  check_positive(reference, \"encode_box\", \"reference\");",
       "box_encode", "crash", {}},
      {"anchors_endless_loop", "src/detection/anchors.cpp", "  std::vector<Box> out;",
       "  for (volatile int spin = 1; spin;) {}\n  std::vector<Box> out;", "anchors", "timeout", {}},
      {"hard_negatives_lowest_first", "src/detection/hard_negative_mining.cpp",
       "return loss[a] > loss[b] ||", "return loss[a] < loss[b] ||", "hard_negative_mining", "fail",
       {"ssd/hard_negatives_no_positive"}},
      {"pck_throws", "src/eval/pose_metrics.cpp", "  return joint_rate(samples, norm, torso, alpha, false);",
       "  throw std::runtime_error(\"pck: not implemented yet\");", "pck", "error", {}},
      {"yolo_no_sqrt", "src/models/yolo.cpp", "        t.sqrt_w = std::sqrt(g.width() / float(width));",
       "        t.sqrt_w = g.width() / float(width);", "yolo_targets", "fail", {}},
  };
  const std::string dir = detlab_test::temp_dir("grade_variants");
  std::vector<std::array<std::string, 3>> jobs;
  for (const Variant& v : variants) {
    std::string text = dl::read_file_text(src + "/" + v.source);
    size_t pos = text.find(v.anchor);
    BOOST_REQUIRE_MESSAGE(pos != std::string::npos, "patch anchor not found in " + v.source + ": " + v.anchor);
    if (v.name == "nms_ge") {   // every comparison in the file
      for (; pos != std::string::npos; pos = text.find(v.anchor, pos + v.replacement.size()))
        text.replace(pos, v.anchor.size(), v.replacement);
    } else {
      text.replace(pos, v.anchor.size(), v.replacement);
    }
    jobs.push_back({v.name, v.source, text});
  }
  build_graders(jobs, dir, "-O1 -w");

  std::vector<std::string> names;
  for (const Variant& v : variants) names.push_back(v.name);
  const std::map<std::string, GradeRun> runs = grade_variants(names, dir);
  for (const Variant& v : variants) {
    BOOST_TEST_CONTEXT("variant " << v.name) {
      const GradeRun& r = runs.at(v.name);
      check_variant(r, {v.exercise}, v.status, v.blind);
      if (v.name == "encode_segfault") BOOST_TEST(r.out.find("SIGSEGV") != std::string::npos);
      if (v.name == "anchors_endless_loop") BOOST_TEST(r.out.find("time limit") != std::string::npos);
      if (v.name == "pck_throws") BOOST_TEST(r.out.find("exception: pck: not implemented yet") != std::string::npos);
      if (v.name == "iou_plus_one") {
        // The summary lists box_iou before the exercises that fail because they use it.
        const size_t order = r.out.find("to fix, in this order:\n  box_iou ");
        BOOST_TEST(order != std::string::npos, r.out);
        BOOST_TEST(r.out.find("voc_evaluate_class", order) != std::string::npos);
        BOOST_TEST(r.out.find("(uses box_iou: fix that first)", order) != std::string::npos);
      }
    }
  }
  fs::remove_all(dir);
}

// `bin/grade --starter DIR`: every exercise file with its functions blanked. Each one
// compiles, and a grader built with it fails every case of the file's exercises and no
// case of an exercise that does not use them.
BOOST_AUTO_TEST_CASE(starter_files_compile_and_fail_exactly_their_exercises) {
  const std::string dir = detlab_test::temp_dir("grade_starter");
  const std::string starter = dir + "/starter";
  const std::string cmd = "cd " + std::string(DETLAB_SOURCE_DIR) + " && " + DETLAB_BIN_DIR +
                          "/grade --starter " + starter + " >" + dir + "/out.txt 2>&1";
  const int rc = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(rc == 0, dl::read_file_text(dir + "/out.txt"));
  const std::string readme = dl::read_file_text(starter + "/README.md");
  BOOST_TEST(readme.find("make grade-quick EXERCISE=") != std::string::npos);
  // A second run would overwrite what the student wrote: it refuses, naming the folder.
  const detlab_test::Run again = detlab_test::run_program("grade", "--starter " + starter, dir);
  BOOST_TEST(again.status == 1);
  BOOST_TEST(again.err.find(starter) != std::string::npos, again.err);

  std::map<std::string, std::set<std::string>> by_file;   // file -> its exercises
  for (const Exercise& e : exercise_registry())
    if (!exercise_file(e).empty()) by_file[exercise_file(e)].insert(e.name);
  BOOST_TEST(by_file.size() >= 15u);
  std::vector<std::array<std::string, 3>> jobs;
  std::map<std::string, std::string> job_file;
  for (const auto& [file, exercises] : by_file) {
    const std::string path = starter + "/" + file;
    BOOST_REQUIRE_MESSAGE(fs::exists(path), path);
    const std::string text = dl::read_file_text(path);
    BOOST_TEST(readme.find("`" + file + "`") != std::string::npos, file);
    for (const std::string& name : exercises) {
      const Exercise* e = find_exercise(name);
      BOOST_TEST(text.find("// TODO (exercise " + name + "):") != std::string::npos, file);
      BOOST_TEST(!e->hint.empty(), name << " has no hint");
      for (const std::string& fn : exercise_functions(*e))
        BOOST_TEST(text.find("throw std::logic_error(\"" + fn + ": not written yet") != std::string::npos,
                   fn << " not blanked in " << file);
    }
    std::string job = fs::path(file).stem().string() + "_" + std::to_string(jobs.size());
    job_file[job] = file;
    jobs.push_back({job, file, text});
  }
  // -O0: the slow part is compiling, and the cases are tiny.
  build_graders(jobs, dir, "-O0");
  // With the project's warnings on (-Wall -Wextra), a starter compiles cleanly.
  for (const auto& job : jobs) {
    const std::string log = dl::read_file_text(dir + "/" + job[0] + ".log");
    BOOST_TEST(log.find("warning:") == std::string::npos, job[1] << ":\n" << log);
  }
  std::vector<std::string> names;
  for (const auto& job : jobs) names.push_back(job[0]);
  const std::map<std::string, GradeRun> runs = grade_variants(names, dir);
  for (const auto& [job, file] : job_file) {
    BOOST_TEST_CONTEXT("starter " << file) {
      const GradeRun& r = runs.at(job);
      check_variant(r, by_file[file], "", {});
      BOOST_TEST(r.out.find(": not written yet (TODO in " + file + ")") != std::string::npos, r.out);
    }
  }
  fs::remove_all(dir);
}

// Killing the grader (SIGTERM to it, as a terminal or a batch system does) kills the
// case it is running -- which sits in its own process group, out of the signal's reach --
// and removes the case's temporary directory; the grader then ends by that signal.
BOOST_AUTO_TEST_CASE(killed_grader_leaves_no_process_and_no_files) {
  const std::string dir = detlab_test::temp_dir("grade_kill");
  const std::string tmp = dir + "/tmp", golden = dir + "/golden";
  fs::create_directories(tmp);
  fs::create_directories(golden + "/long");
  // A case that trains far longer than the test waits.
  const json c = {{"exercise", "program_metric"}, {"points", 1}, {"time_limit_s", 600},
                  {"tolerance", "exact"},
                  {"inputs", {{"program", "classify"},
                              {"args", {"train", "--limit", "2000", "--epochs", "500", "--quiet",
                                        "--model", "{tmp}/m.safetensors"}},
                              {"metrics", {"test_accuracy"}}}},
                  {"expected", {{"test_accuracy", {{"at_least", 0.5}}}}}};
  dl::write_file_atomic(golden + "/long/e2e_long.json", c.dump());

  const std::string grade = std::string(DETLAB_BIN_DIR) + "/grade";
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("TMPDIR", tmp.c_str(), 1);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(grade.c_str(), grade.c_str(), "--golden", golden.c_str(), "long", (char*)nullptr);
    ::_exit(127);
  }
  // Wait until the case runs: its private directory exists and classify is training.
  auto slurp = [](const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  auto case_processes = [&] {
    int n = 0;
    for (const auto& p : fs::directory_iterator("/proc")) {
      const std::string name = p.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;  // not a process
      const std::string cmd = slurp(p.path().string() + "/cmdline");
      const std::string stat = slurp(p.path().string() + "/stat");
      const size_t paren = stat.rfind(')');
      const bool zombie = paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
      if (!zombie && cmd.find(tmp) != std::string::npos) ++n;
    }
    return n;
  };
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    ::usleep(50000);
    started = case_processes() > 0;
  }
  BOOST_REQUIRE(started);
  ::kill(pid, SIGTERM);
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) BOOST_TEST(WTERMSIG(status) == SIGTERM);
  int left = 1;
  for (int i = 0; i < 40 && left > 0; ++i) {  // SIGKILL'd processes take a moment to go
    left = case_processes();
    if (left) ::usleep(50000);
  }
  BOOST_TEST(left == 0);
  BOOST_TEST(fs::is_empty(tmp), "the case's temporary directory was left behind");
  fs::remove_all(dir);
}

// Last: waits for the background reference run.
// "--json -" prints the report as JSON on stdout (and only that), as every other
// program's --json does, instead of writing a file named "-".
BOOST_AUTO_TEST_CASE(json_dash_prints_the_report_on_stdout) {
  const std::string dir = detlab_test::temp_dir("grade_json_stdout");
  const std::string cmd = "cd " + dir + " && " + std::string(DETLAB_BIN_DIR) +
                          "/grade --unit-only --exercise box_iou --quiet --golden " +
                          DETLAB_SOURCE_DIR + "/data/golden --json - >out.txt 2>err.txt";
  const int rc = std::system(cmd.c_str());
  BOOST_TEST(WIFEXITED(rc));
  BOOST_TEST(WEXITSTATUS(rc) == 0, dl::read_file_text(dir + "/err.txt"));
  const json j = json::parse(dl::read_file_text(dir + "/out.txt"));
  check_schema(j);
  BOOST_TEST(j["total"].get<int>() > 0);
  BOOST_TEST(!fs::exists(dir + "/-"));
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(reference_scores_100_percent) {
  const GradeRun& r = reference_run().get();
  BOOST_TEST(r.status == 0, r.out);
  BOOST_REQUIRE(r.report.is_object());
  check_schema(r.report);
  BOOST_TEST(r.report["percent"] == 100.0);
  BOOST_TEST(r.report["all_passed"] == true);
  // Every committed case was graded (none silently skipped).
  BOOST_TEST(r.report["total"].get<int>() == count_case_files());
  BOOST_TEST(r.report["total"].get<int>() >= 60);
  for (const json& l : r.report["lessons"])
    for (const json& c : l["cases"]) BOOST_TEST(c["status"] == "pass", c["file"] << ": " << c["message"]);
}

BOOST_AUTO_TEST_SUITE_END()
