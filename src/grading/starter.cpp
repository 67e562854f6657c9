#include "grading/starter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "grading/exercises.h"
#include "util/files.h"

namespace dl::grading {
namespace fs = std::filesystem;

namespace {

bool identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Index just past the bracket that closes the one at `open`, skipping string and
// character literals and comments; npos when it is never closed.
size_t matching(const std::string& t, size_t open) {
  const char o = t[open], c = o == '(' ? ')' : '}';
  int depth = 0;
  for (size_t i = open; i < t.size(); ++i) {
    if (t[i] == '"' || t[i] == '\'') {
      const char q = t[i];
      for (++i; i < t.size() && t[i] != q; ++i)
        if (t[i] == '\\') ++i;
    } else if (t.compare(i, 2, "//") == 0) {
      i = t.find('\n', i);
      if (i == std::string::npos) return i;
    } else if (t.compare(i, 2, "/*") == 0) {
      i = t.find("*/", i + 2);
      if (i == std::string::npos) return i;
      ++i;
    } else if (t[i] == o) {
      ++depth;
    } else if (t[i] == c && --depth == 0) {
      return i + 1;
    }
  }
  return std::string::npos;
}

// The hint as comment lines of at most ~90 columns.
std::string todo_comment(const BlankFunction& b) {
  std::string out, line = "  // TODO (exercise " + b.exercise + "):";
  std::string word;
  auto flush_word = [&] {
    if (word.empty()) return;
    if (line.size() + 1 + word.size() > 90) {
      out += line + "\n";
      line = "  //  ";
    }
    line += " " + word;
    word.clear();
  };
  for (char ch : b.hint) {
    if (ch == ' ') flush_word();
    else word += ch;
  }
  flush_word();
  return out + line + "\n";
}

}  // namespace

std::string blank_functions(const std::string& text, const std::string& file,
                            const std::vector<BlankFunction>& blanks) {
  std::string t = text;
  for (const BlankFunction& b : blanks) {
    int found = 0;
    for (size_t at = t.find(b.name + "("); at != std::string::npos; at = t.find(b.name + "(", at + 1)) {
      if (at > 0 && (identifier_char(t[at - 1]) || t[at - 1] == '.' || t[at - 1] == '>')) continue;
      // At namespace scope: the line starts in column 0 with neither a comment nor '#'.
      const size_t line = t.rfind('\n', at) == std::string::npos ? 0 : t.rfind('\n', at) + 1;
      if (line == at || std::isspace(static_cast<unsigned char>(t[line])) || t[line] == '/' ||
          t[line] == '#' || t[line] == '}')
        continue;
      if (t.substr(line, at - line).find_first_of("=;(") != std::string::npos) continue;
      const size_t params_end = matching(t, at + b.name.size());
      if (params_end == std::string::npos) continue;
      const size_t brace = t.find_first_of("{;", params_end);
      if (brace == std::string::npos || t[brace] != '{') continue;  // a declaration
      const size_t body_end = matching(t, brace);
      if (body_end == std::string::npos) continue;
      const std::string body =
          "{\n" + todo_comment(b) +
          fmt::format("  throw std::logic_error(\"{}: not written yet (TODO in {})\");\n}}", b.name, file);
      t.replace(brace, body_end - brace, body);
      ++found;
    }
    if (found == 0)
      throw std::invalid_argument("starter: no definition of " + b.name + " in " + file);
  }
  // Until it is written, a TODO function ignores its parameters, and a helper only it
  // called is unused: no warnings for those in the student's build.
  const size_t first_include = t.find("#include");
  t.insert(first_include == std::string::npos ? 0 : first_include,
           "// Starter file (bin/grade --starter): the TODO functions do not use their parameters\n"
           "// yet: delete the two pragmas below once they are written.\n"
           "#pragma GCC diagnostic ignored \"-Wunused-parameter\"\n"
           "#pragma GCC diagnostic ignored \"-Wunused-function\"\n");
  // The throw needs <stdexcept>: add it before the first standard header (or after the
  // file's own header when it has none).
  if (t.find("#include <stdexcept>") == std::string::npos) {
    size_t at = t.find("#include <");
    if (at == std::string::npos) {
      at = t.find("#include");
      at = at == std::string::npos ? 0 : t.find('\n', at) + 1;
    }
    t.insert(at, "#include <stdexcept>\n");
  }
  return t;
}

std::vector<StarterFile> write_starter(const std::string& source_root, const std::string& dir) {
  std::vector<StarterFile> files;
  std::map<std::string, std::vector<BlankFunction>> blanks;
  for (const Exercise& e : exercise_registry()) {
    const std::string file = exercise_file(e);
    if (file.empty()) continue;  // the end-to-end exercise has no single file
    auto f = std::find_if(files.begin(), files.end(), [&](const StarterFile& s) { return s.file == file; });
    if (f == files.end()) f = files.insert(files.end(), {file, {}});
    f->exercises.push_back(e.name);
    for (const std::string& fn : exercise_functions(e)) blanks[file].push_back({fn, e.name, e.hint});
  }
  std::string table;
  for (const StarterFile& f : files) {
    const std::string text = read_file_text((fs::path(source_root) / f.file).string());
    const fs::path out = fs::path(dir) / f.file;
    fs::create_directories(out.parent_path());
    write_file_atomic(out.string(), blank_functions(text, f.file, blanks[f.file]));
    table += fmt::format("| `{}` | {} |\n", f.file, fmt::join(f.exercises, ", "));
  }
  write_file_atomic(
      (fs::path(dir) / "README.md").string(),
      "# Starter files: write the lecture's functions yourself\n\n"
      "Each file here is a copy of the library file of the same path with the bodies of the\n"
      "exercise functions replaced by a `TODO` (the idea to implement, in a few lines) and a\n"
      "`throw`, so it compiles as it is and every case of its exercises fails until you write\n"
      "them. Everything else in the file (helpers, other functions) is the working library.\n\n"
      "To work on one exercise, from the repository's root:\n\n"
      "```\n"
      "cp " + dir + "/src/detection/boxes.cpp src/detection/boxes.cpp   # replaces the reference\n"
      "# ... write box_iou ...\n"
      "make grade-quick EXERCISE=box_iou      # rebuilds the library and bin/grade only\n"
      "make grade-quick                       # every exercise's unit cases\n"
      "git checkout src/detection/boxes.cpp   # back to the reference implementation\n"
      "```\n\n"
      "A failing case prints its description, inputs and golden file. A case of another\n"
      "exercise may fail too when that exercise calls yours (`also uses box_iou`); the grader\n"
      "then says to fix yours first. `bin/grade --list` shows every exercise and its cases.\n"
      "The two `#pragma` lines at the top of each file silence the warnings about the TODO\n"
      "functions' unused parameters; delete them once your functions are written.\n\n"
      "| file | exercises |\n| --- | --- |\n" + table);
  return files;
}

}  // namespace dl::grading
