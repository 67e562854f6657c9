// lesson_blocks: rewrites the generated regions of a lesson from the JSON its commands
// printed, so the numbers in the text are always the output of one command (`make
// lessons`, tools/lessons.sh). A region in the lesson is
//   <!-- lessons: 00/train -->
//   ...anything; replaced...
//   <!-- /lessons -->
// and its new content is the template of the same name in the lesson's templates file
// (lessons/reproduce/NN.md), between <!-- template: 00/train --> and <!-- /template -->,
// with every {{FILE:/json/pointer|FORMAT}} replaced by that field of DIR/FILE (a FILE
// ending in .csv, a training log, reads as an array of rows keyed by its header). Text
// outside the regions is copied byte for byte. FORMAT is optional:
//   .N      the number with N decimals           (0.8744 |.4 -> 0.8744)
//   xK.N    the number times K, N decimals       (0.8744 |x100.2 -> 87.44)
//   ,       rounded to an integer, thousands separated by commas (60000 -> 60,000)
// without one a string is copied as it is and a number as JSON writes it. A missing
// file, field, template or region is an error naming the file (exit 1): a table is
// never half filled.
//   bin/lesson_blocks LESSON.md --templates lessons/reproduce/00.md --json-dir out/lessons/00
//   [--out FILE]   (default: LESSON.md rewritten in place)
#include <fmt/core.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lessons/common/cli.h"
#include "util/files.h"

using namespace dl;
using json = nlohmann::json;

namespace {

const std::string kBlockOpen = "<!-- lessons: ", kBlockClose = "<!-- /lessons -->";
const std::string kTemplateOpen = "<!-- template: ", kTemplateClose = "<!-- /template -->";

// The lines of `text`, each with its '\n' (the last one may have none).
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

// "<!-- lessons: 00/train -->\n" -> "00/train" for opener "<!-- lessons: "; "" otherwise.
std::string marker_name(const std::string& line, const std::string& opener) {
  std::string s = line;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.rfind(opener, 0) != 0 || s.size() < opener.size() + 4 || s.substr(s.size() - 4) != " -->")
    return "";
  return s.substr(opener.size(), s.size() - opener.size() - 4);
}

bool is_marker(const std::string& line, const std::string& marker) {
  return line.rfind(marker, 0) == 0;
}

// name -> body of every <!-- template: name --> ... <!-- /template --> in `path`.
std::map<std::string, std::string> read_templates(const std::string& path) {
  std::map<std::string, std::string> templates;
  std::string name, body;
  int line_no = 0, open_line = 0;
  for (const std::string& line : split_lines(read_file_text(path))) {
    ++line_no;
    if (const std::string n = marker_name(line, kTemplateOpen); !n.empty()) {
      if (!name.empty())
        throw FileError(path, fmt::format("line {}: template {} opened inside template {}", line_no, n, name));
      if (templates.count(n)) throw FileError(path, fmt::format("line {}: template {} defined twice", line_no, n));
      name = n, body.clear(), open_line = line_no;
    } else if (is_marker(line, kTemplateClose)) {
      if (name.empty()) throw FileError(path, fmt::format("line {}: <!-- /template --> without an opening", line_no));
      templates[name] = body;
      name.clear();
    } else if (!name.empty()) {
      body += line;
    }
  }
  if (!name.empty()) throw FileError(path, fmt::format("line {}: template {} is never closed", open_line, name));
  return templates;
}

std::string with_commas(long long v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

// One field formatted as `format` says (the grammar is in the header comment).
std::string format_value(const json& v, const std::string& format, const std::string& where) {
  if (format.empty()) {
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
  }
  if (!v.is_number()) throw std::runtime_error(where + " is not a number (format |" + format + ")");
  const double x = v.get<double>();
  if (format == ",") return with_commas(std::llround(x));
  double scale = 1;
  std::string decimals = format;
  if (format[0] == 'x') {
    const size_t dot = format.rfind('.');
    const std::string k = dot == std::string::npos ? "" : format.substr(1, dot - 1);
    if (k.empty() || k.find_first_not_of("0123456789.") != std::string::npos || k[0] == '.')
      throw std::runtime_error(where + ": bad format |" + format + " (.N, xK.N or ,)");
    scale = std::stod(k);
    decimals = format.substr(dot);
  }
  if (decimals.size() < 2 || decimals[0] != '.' ||
      decimals.find_first_not_of("0123456789", 1) != std::string::npos)
    throw std::runtime_error(where + ": bad format |" + format + " (.N, xK.N or ,)");
  return fmt::format("{:.{}f}", x * scale, std::stoi(decimals.substr(1)));
}

// A training log (NAME.csv: a header, then one line per epoch) as an array of objects,
// one per line, numbers where a cell parses as one: {{m.csv:/3/test_acc}} is epoch 4's.
json csv_rows(const std::string& text) {
  auto cells = [](const std::string& line) {
    std::vector<std::string> v(1);
    for (char c : line)
      if (c == ',') v.emplace_back();
      else if (c != '\n' && c != '\r') v.back() += c;
    return v;
  };
  const std::vector<std::string> lines = split_lines(text);
  json rows = json::array();
  if (lines.empty()) return rows;
  const std::vector<std::string> header = cells(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> v = cells(lines[i]);
    json row = json::object();
    for (size_t c = 0; c < header.size() && c < v.size(); ++c) {
      char* end = nullptr;
      const double x = std::strtod(v[c].c_str(), &end);
      row[header[c]] = !v[c].empty() && *end == '\0' ? json(x) : json(v[c]);
    }
    rows.push_back(row);
  }
  return rows;
}

class Filler {
 public:
  Filler(std::string json_dir, std::string templates) : dir_(std::move(json_dir)), templates_(std::move(templates)) {}

  // `body` with its {{FILE:/pointer|FORMAT}} replaced; `block` names it in errors.
  std::string fill(const std::string& body, const std::string& block) {
    std::string out;
    size_t pos = 0;
    while (true) {
      const size_t open = body.find("{{", pos);
      if (open == std::string::npos) break;
      const size_t close = body.find("}}", open);
      if (close == std::string::npos) throw FileError(templates_, "template " + block + ": {{ without }}");
      out += body.substr(pos, open - pos);
      out += field(body.substr(open + 2, close - open - 2), block);
      pos = close + 2;
    }
    return out + body.substr(pos);
  }

 private:
  std::string field(const std::string& spec, const std::string& block) {
    const size_t colon = spec.find(':'), bar = spec.find('|');
    if (colon == std::string::npos || (bar != std::string::npos && bar < colon))
      throw FileError(templates_, "template " + block + ": {{" + spec + "}} is not {{FILE:/pointer|FORMAT}}");
    const std::string file = dir_ + "/" + spec.substr(0, colon);
    const std::string pointer = spec.substr(colon + 1, bar == std::string::npos ? std::string::npos : bar - colon - 1);
    const std::string format = bar == std::string::npos ? "" : spec.substr(bar + 1);
    const json& doc = load(file);
    const std::string where = "field " + pointer + " (block " + block + ")";
    try {
      const json::json_pointer p(pointer);
      if (!doc.contains(p)) throw FileError(file, "no " + where);
      return format_value(doc.at(p), format, file + ": " + where);
    } catch (const json::exception&) {
      throw FileError(file, "no " + where);
    }
  }

  const json& load(const std::string& path) {
    auto it = cache_.find(path);
    if (it != cache_.end()) return it->second;
    const std::string text = read_file_text(path);
    json j = path.size() > 4 && path.substr(path.size() - 4) == ".csv" ? csv_rows(text)
                                                                      : json::parse(text, nullptr, false);
    if (j.is_discarded()) throw FileError(path, "not valid JSON");
    return cache_.emplace(path, std::move(j)).first->second;
  }

  std::string dir_, templates_;
  std::map<std::string, json> cache_;
};

// The lesson with every region's content replaced by its filled template.
std::string rewrite(const std::string& lesson_path, const std::map<std::string, std::string>& templates,
                    const std::string& templates_path, Filler& filler) {
  std::string out, name;
  std::set<std::string> seen;
  int line_no = 0, open_line = 0;
  for (const std::string& line : split_lines(read_file_text(lesson_path))) {
    ++line_no;
    if (const std::string n = marker_name(line, kBlockOpen); !n.empty()) {
      if (!name.empty())
        throw FileError(lesson_path, fmt::format("line {}: block {} opened inside block {}", line_no, n, name));
      auto t = templates.find(n);
      if (t == templates.end()) throw FileError(lesson_path, "block " + n + " has no template in " + templates_path);
      if (!seen.insert(n).second) throw FileError(lesson_path, fmt::format("line {}: block {} appears twice", line_no, n));
      out += line + filler.fill(t->second, n);
      name = n, open_line = line_no;
    } else if (is_marker(line, kBlockClose)) {
      if (name.empty()) throw FileError(lesson_path, fmt::format("line {}: <!-- /lessons --> without an opening", line_no));
      out += line;
      name.clear();
    } else if (name.empty()) {
      out += line;  // outside every block: untouched
    }
  }
  if (!name.empty()) throw FileError(lesson_path, fmt::format("line {}: block {} is never closed", open_line, name));
  for (const auto& [n, body] : templates)
    if (!seen.count(n)) throw FileError(templates_path, "template " + n + " has no block in " + lesson_path);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"lesson_blocks: fill a lesson's generated regions from JSON outputs"};
  std::string lesson, templates_path, json_dir, out;
  app.option("lesson", lesson, "the lesson's markdown file").required();
  app.option("--templates", templates_path, "the lesson's templates (lessons/reproduce/NN.md)").required();
  app.option("--json-dir", json_dir, "the directory the templates' FILEs are in").required();
  app.option("--out", out, "write here instead of rewriting LESSON in place");
  if (int rc = cli::parse(app, argc, argv); rc >= 0) return rc;
  return cli::run_guarded([&] {
    Filler filler(json_dir, templates_path);
    const std::string text = rewrite(lesson, read_templates(templates_path), templates_path, filler);
    write_file_atomic(out.empty() ? lesson : out, text);
    return 0;
  });
}
