// The visual report of a run (`eval` / `predict --report PAGE.html`, `bin/compare
// --report`): one plain static HTML page -- no JavaScript, no network -- that opens from
// the file system and shows what the run wrote: its pictures, its metric tables, the
// model's loss curves, links to the JSON. Every link is relative to the page's folder, so
// the folder can be copied or zipped whole.
//
// Two layers: HtmlReport, a small builder (title, heading, paragraph, table, image, link;
// all text HTML-escaped), and add_json / write_run_report, which lay out a program's
// --json result on it -- the same JSON a script reads, so the page never shows a number
// the JSON does not hold.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lessons/common/cli.h"

namespace dl::cli {

// "<" -> "&lt;" etc.: text is always text, whatever a file or class name holds.
std::string html_escape(const std::string& text);

class HtmlReport {
 public:
  // `path`: where save() writes the page; images and links are made relative to its folder.
  HtmlReport(std::string path, const std::string& title);

  void heading(const std::string& text);
  void paragraph(const std::string& text);
  // A header row and body rows of text cells (a short row is padded with empty cells).
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows);
  // A PNG/JPEG/SVG picture by its path (as the program wrote it: absolute or relative to
  // the working directory), with a caption; a file that is not there is a paragraph saying so.
  void image(const std::string& file, const std::string& caption);
  void link(const std::string& file, const std::string& text);

  // `file` as the page links to it: relative to the page's folder.
  std::string href(const std::string& file) const;
  const std::string& path() const { return path_; }
  std::string html() const;
  // Atomic write (util/files.h), creating the folder.
  void save() const;

 private:
  std::string path_, title_, body_;
};

// Lays out a program's JSON result: an object's numbers and words as one "name | value"
// table, a list of records (per image, per method) or a map of records (per class) as a
// table, a matrix (confusion) as a grid labelled by the "classes" beside it; a value
// naming a picture (.png .jpg .svg) is shown, one naming a .json file is linked, and a
// per-image record (predict) gets its picture and its JSON file. Long lists stop after
// `max_rows` rows, saying how many the JSON holds.
void add_json(HtmlReport& page, const nlohmann::json& result, size_t max_rows = 200);

// A page titled `title`: `intro` (a paragraph, if any), links to `files` (the run's JSON
// outputs), the result (add_json), then `pictures` (charts), written atomically to `page`.
void write_report_page(const std::string& page, const std::string& title, const std::string& intro,
                       const std::vector<std::string>& files, const nlohmann::json& result,
                       const std::vector<std::string>& pictures);

// The page of one eval / predict run of the running program (cli::program_name()):
// the result (add_json), the model's training curves MODEL.svg when they are beside the
// model file (`model` or, when empty, data/models/PROGRAM.safetensors), and the result
// itself saved beside the page as PAGE.json (linked). Does nothing when `page` is empty.
void write_run_report(const std::string& page, const std::string& model, const std::string& command,
                      const nlohmann::json& result);

// Does this run want its result as JSON: --json or --report given.
bool result_wanted(const CommonArgs& a);

// The end of every eval / predict: the page when --report is given, the JSON on stdout
// when --json is; returns a.json (true: the text output is not wanted).
bool output_result(const CommonArgs& a, const std::string& command, const nlohmann::json& result);

// Registers --report PAGE.html on an eval or predict subcommand (into a.report).
void add_report_flag(Command& sub, CommonArgs& a);
// A program's eval / predict / bench subcommand: `name` with the common flags, and
// --report when `report`.
Command add_command(Command& app, CommonArgs& a, const std::string& name, const std::string& help,
                    bool report = false);
void add_report_flag(Command& sub, std::string& page);

}  // namespace dl::cli
