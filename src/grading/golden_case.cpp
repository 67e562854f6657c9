#include "grading/golden_case.h"

#include <algorithm>
#include <filesystem>

#include "util/files.h"

namespace dl::grading {
namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

Tolerance parse_tolerance(const json& t, const std::string& path) {
  if (t.is_string() && t.get<std::string>() == "exact") return {};
  if (!t.is_object()) throw FileError(path, "tolerance must be \"exact\" or {\"abs\", \"rel\"}");
  Tolerance tol;
  tol.abs = t.value("abs", 0.0);
  tol.rel = t.value("rel", 0.0);
  if (!(tol.abs >= 0) || !(tol.rel >= 0)) throw FileError(path, "tolerance must be >= 0");
  return tol;
}

// {"file": "name"} -> the JSON in that file, recursively through objects and arrays.
json resolve_files(const json& v, const fs::path& dir, const std::string& path) {
  if (v.is_object() && v.size() == 1 && v.contains("file") && v["file"].is_string()) {
    const std::string f = (dir / v["file"].get<std::string>()).string();
    try {
      return json::parse(read_file_text(f));
    } catch (const json::exception& e) {
      throw FileError(f, std::string("not valid JSON (") + e.what() + ")");
    }
  }
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = resolve_files(*it, dir, path);
    return out;
  }
  return v;  // arrays of inline data never hold file references
}

bool is_bound(const json& v) {
  return v.is_object() && (v.contains("at_least") || v.contains("at_most"));
}

// Golden files are read by people: scalars and flat arrays stay on one line.
void write_json(std::string& out, const ojson& v, int indent) {
  const std::string pad(indent, ' '), pad2(indent + 2, ' ');
  auto scalar_array = [](const ojson& a) {
    return std::all_of(a.begin(), a.end(), [](const ojson& e) { return !e.is_structured(); });
  };
  if (v.is_object() && !v.empty()) {
    out += "{\n";
    size_t i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
      out += pad2 + ojson(it.key()).dump() + ": ";
      write_json(out, it.value(), indent + 2);
      out += i + 1 < v.size() ? ",\n" : "\n";
    }
    out += pad + "}";
  } else if (v.is_array() && !v.empty() && !scalar_array(v)) {
    out += "[\n";
    for (size_t i = 0; i < v.size(); ++i) {
      out += pad2;
      write_json(out, v[i], indent + 2);
      out += i + 1 < v.size() ? ",\n" : "\n";
    }
    out += pad + "]";
  } else {
    out += v.dump();
  }
}

}  // namespace

Tolerance GoldenCase::tolerance_for(const std::string& output) const {
  for (const auto& [name, tol] : output_tolerance)
    if (name == output) return tol;
  return tolerance;
}

GoldenCase load_case(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file_text(path));
  } catch (const json::exception& e) {
    throw FileError(path, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) throw FileError(path, "a golden case must be a JSON object");
  GoldenCase c;
  c.path = path;
  const fs::path p(path);
  c.name = p.stem().string();
  c.lesson = p.parent_path().filename().string();
  try {
    if (!j.contains("exercise") || !j["exercise"].is_string())
      throw FileError(path, "missing \"exercise\" (the name of the function under test)");
    c.exercise = j["exercise"].get<std::string>();
    c.description = j.value("description", std::string());
    c.points = j.value("points", 1.0);
    c.time_limit_s = j.value("time_limit_s", 10.0);
    if (!(c.points >= 0)) throw FileError(path, "points must be >= 0");
    if (!(c.time_limit_s > 0)) throw FileError(path, "time_limit_s must be > 0");
    if (j.contains("tolerance")) {
      const json& t = j["tolerance"];
      c.tolerance = parse_tolerance(t, path);
      if (t.is_object() && t.contains("outputs")) {
        if (!t["outputs"].is_object()) throw FileError(path, "tolerance.outputs must be an object");
        for (auto it = t["outputs"].begin(); it != t["outputs"].end(); ++it)
          c.output_tolerance.emplace_back(it.key(), parse_tolerance(*it, path));
      }
    }
    if (!j.contains("inputs") || !j["inputs"].is_object())
      throw FileError(path, "missing \"inputs\" object");
    c.inputs = resolve_files(j["inputs"], p.parent_path(), path);
    c.expected = j.value("expected", json::object());
    if (!c.expected.is_object()) throw FileError(path, "\"expected\" must be an object");
  } catch (const json::exception& e) {
    throw FileError(path, std::string("malformed golden case (") + e.what() + ")");
  }
  return c;
}

void save_expected(const GoldenCase& c, const json& expected) {
  ojson j = ojson::parse(read_file_text(c.path));
  ojson merged = ojson::object();
  // Keep bounds (end-to-end thresholds are chosen by people, not regenerated).
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    const bool keep = c.expected.contains(it.key()) && is_bound(c.expected[it.key()]);
    merged[it.key()] = ojson::parse((keep ? c.expected[it.key()] : *it).dump());
  }
  j["expected"] = merged;
  std::string text;
  write_json(text, j, 0);
  write_file_atomic(c.path, text + "\n");
}

std::vector<std::string> list_lessons(const std::string& root) {
  if (!fs::is_directory(root)) throw FileError(root, "golden case folder not found");
  std::vector<std::string> lessons;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) lessons.push_back(e.path().filename().string());
  std::sort(lessons.begin(), lessons.end());
  return lessons;
}

std::vector<GoldenCase> load_lesson(const std::string& root, const std::string& lesson) {
  const fs::path dir = fs::path(root) / lesson;
  if (!fs::is_directory(dir))
    throw FileError(dir.string(), "no such lesson (its golden cases would be in this folder)");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<GoldenCase> cases;
  for (const auto& f : files) cases.push_back(load_case(f));
  return cases;
}

}  // namespace dl::grading
