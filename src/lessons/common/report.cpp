#include "lessons/common/report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <utility>

#include "util/files.h"

namespace dl::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

namespace {

// A path as a URL path: letters, digits and -._~/ stay, every other byte is %XX (a file
// named "a b#1.png" must not end the link at the '#').
std::string url_path(const std::string& path) {
  std::string out;
  for (const unsigned char ch : path) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/')
      out += static_cast<char>(ch);
    else
      out += fmt::format("%{:02X}", ch);
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_picture(const std::string& s) {
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return ends_with(lower, ".png") || ends_with(lower, ".jpg") || ends_with(lower, ".jpeg") ||
         ends_with(lower, ".svg");
}

bool is_scalar(const json& v) { return v.is_primitive(); }

// Numbers as a reader wants them: integers whole, others to 4 significant digits.
std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return std::fabs(d) >= 1e4 ? fmt::format("{:.1f}", d) : fmt::format("{:.4g}", d);
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return "";
  // A short list of numbers inline (a box, the 12 COCO stats), anything bigger summarised.
  if (v.is_array() && v.size() <= 12 &&
      std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_primitive(); })) {
    std::string s;
    for (const json& x : v) s += (s.empty() ? "" : ", ") + cell(x);
    return "[" + s + "]";
  }
  const std::string text = v.dump();
  return text.size() <= 80 ? text : text.substr(0, 77) + "...";
}

bool is_matrix(const json& v) {
  return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [&](const json& row) {
           return row.is_array() && row.size() == v.front().size() && !row.empty() &&
                  std::all_of(row.begin(), row.end(), [](const json& x) { return x.is_number(); });
         });
}

bool is_records(const json& v) {  // a non-empty list of objects
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_object(); });
}

bool is_record_map(const json& v) {  // {"circle": {"voc_ap50": ...}, ...}
  return v.is_object() && !v.empty() && std::all_of(v.begin(), v.end(), [](const json& x) {
           return x.is_object() && std::all_of(x.begin(), x.end(), [](const json& y) { return is_scalar(y) || y.is_array(); });
         });
}

bool is_scalar_map(const json& v) {  // {"circle": 0.91, ...}
  return v.is_object() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const json& x) { return is_scalar(x); });
}

// One table from a list of records: a column per key (first seen first).
void records_table(HtmlReport& page, const std::vector<std::pair<std::string, const json*>>& records,
                   const std::string& key_column, size_t max_rows) {
  std::vector<std::string> header;
  if (!key_column.empty()) header.push_back(key_column);
  std::vector<std::string> keys;
  for (const auto& [name, r] : records)
    for (auto it = r->begin(); it != r->end(); ++it)
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
  header.insert(header.end(), keys.begin(), keys.end());
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < records.size() && i < max_rows; ++i) {
    std::vector<std::string> row;
    if (!key_column.empty()) row.push_back(records[i].first);
    for (const std::string& k : keys)
      row.push_back(records[i].second->contains(k) ? cell((*records[i].second)[k]) : "");
    rows.push_back(std::move(row));
  }
  page.table(header, rows);
  if (records.size() > max_rows)
    page.paragraph(fmt::format("... the first {} of {} rows; the JSON holds them all.", max_rows,
                               records.size()));
}

void add_object(HtmlReport& page, const json& obj, size_t max_rows);

// A per-image record of `predict`: the picture it drew, the JSON file beside it, its numbers.
bool is_prediction(const json& r) {
  return r.is_object() && r.contains("annotated") && r["annotated"].is_string();
}

void add_prediction(HtmlReport& page, const json& r, size_t max_rows) {
  const std::string picture = r["annotated"].get<std::string>();
  page.heading(r.contains("image") && r["image"].is_string() ? r["image"].get<std::string>() : picture);
  page.image(picture, picture);
  const std::string own_json = fs::path(picture).replace_extension(".json").string();
  if (fs::exists(own_json)) page.link(own_json, own_json);
  json rest = r;
  rest.erase("annotated");
  rest.erase("image");
  add_object(page, rest, max_rows);
}

void add_member(HtmlReport& page, const std::string& key, const json& v, const json& parent,
                size_t max_rows) {
  if (is_matrix(v)) {
    // Rows and columns are the classes when the object lists as many (a confusion matrix).
    const json* names = nullptr;
    for (const char* k : {"classes", "class_names", "labels"})
      if (parent.contains(k) && parent[k].is_array() && parent[k].size() == v.size() &&
          v.front().size() == v.size())
        names = &parent[k];
    std::vector<std::string> header{names ? "true \\ predicted" : ""};
    for (size_t c = 0; c < v.front().size(); ++c)
      header.push_back(names ? cell((*names)[c]) : std::to_string(c));
    std::vector<std::vector<std::string>> rows;
    for (size_t r = 0; r < v.size() && r < max_rows; ++r) {
      std::vector<std::string> row{names ? cell((*names)[r]) : std::to_string(r)};
      for (const json& x : v[r]) row.push_back(cell(x));
      rows.push_back(std::move(row));
    }
    page.heading(key);
    page.table(header, rows);
  } else if (is_records(v) && std::all_of(v.begin(), v.end(), is_prediction)) {
    for (size_t i = 0; i < v.size() && i < max_rows; ++i) add_prediction(page, v[i], max_rows);
  } else if (is_records(v)) {
    std::vector<std::pair<std::string, const json*>> recs;
    for (const json& r : v) recs.emplace_back("", &r);
    page.heading(key);
    records_table(page, recs, "", max_rows);
  } else if (is_record_map(v)) {
    std::vector<std::pair<std::string, const json*>> recs;
    for (auto it = v.begin(); it != v.end(); ++it) recs.emplace_back(it.key(), &it.value());
    page.heading(key);
    records_table(page, recs, "name", max_rows);
  } else if (is_scalar_map(v)) {
    std::vector<std::vector<std::string>> rows;
    for (auto it = v.begin(); it != v.end(); ++it) rows.push_back({it.key(), cell(it.value())});
    page.heading(key);
    page.table({"name", key}, rows);
  } else if (v.is_object()) {
    page.heading(key);
    add_object(page, v, max_rows);
  } else {
    page.heading(key);
    page.paragraph(cell(v));
  }
}

bool is_picture_list(const json& v) {
  return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const json& x) {
           return x.is_string() && is_picture(x.get<std::string>());
         });
}

// Is v shown in the object's "name | value" table (a word, a number, a short list)?
bool in_summary(const json& v) {
  return is_scalar(v) || (v.is_array() && v.size() <= 12 &&
                          std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_primitive(); }));
}

void add_object(HtmlReport& page, const json& obj, size_t max_rows) {
  std::vector<std::vector<std::string>> summary;
  std::vector<std::string> pictures, links;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const json& v = it.value();
    if (v.is_string() && is_picture(v.get<std::string>())) pictures.push_back(v.get<std::string>());
    else if (is_picture_list(v))
      for (const json& x : v) pictures.push_back(x.get<std::string>());
    else if (v.is_string() && ends_with(v.get<std::string>(), ".json")) links.push_back(v.get<std::string>());
    else if (in_summary(v) && !is_picture_list(v)) summary.push_back({it.key(), cell(v)});
  }
  if (!summary.empty()) page.table({"name", "value"}, summary);
  for (const std::string& p : pictures) page.image(p, p);
  for (const std::string& l : links) page.link(l, l);
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!in_summary(it.value()) && !is_picture_list(it.value())) add_member(page, it.key(), it.value(), obj, max_rows);
}

}  // namespace

HtmlReport::HtmlReport(std::string path, const std::string& title)
    : path_(std::move(path)), title_(title) {
  body_ += "<h1>" + html_escape(title) + "</h1>\n";
}

void HtmlReport::heading(const std::string& text) { body_ += "<h2>" + html_escape(text) + "</h2>\n"; }

void HtmlReport::paragraph(const std::string& text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }

void HtmlReport::table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table>\n<tr>";
  for (const std::string& h : header) body_ += "<th>" + html_escape(h) + "</th>";
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (size_t c = 0; c < std::max(header.size(), row.size()); ++c)
      body_ += "<td>" + (c < row.size() ? html_escape(row[c]) : "") + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

std::string HtmlReport::href(const std::string& file) const {
  const fs::path dir = fs::absolute(fs::path(path_)).parent_path().lexically_normal();
  const fs::path target = fs::absolute(fs::path(file)).lexically_normal();
  const fs::path rel = target.lexically_relative(dir);
  return url_path(rel.empty() ? target.string() : rel.generic_string());
}

void HtmlReport::image(const std::string& file, const std::string& caption) {
  if (!fs::exists(file)) {
    paragraph("(picture " + file + " not found)");
    return;
  }
  body_ += "<figure><img src=\"" + html_escape(href(file)) + "\" alt=\"" + html_escape(caption) +
           "\"><figcaption>" + html_escape(caption) + "</figcaption></figure>\n";
}

void HtmlReport::link(const std::string& file, const std::string& text) {
  body_ += "<p><a href=\"" + html_escape(href(file)) + "\">" + html_escape(text) + "</a></p>\n";
}

std::string HtmlReport::html() const {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html_escape(title_) +
         "</title>\n<style>\n"
         "body { font-family: sans-serif; margin: 2em; max-width: 70em; }\n"
         "table { border-collapse: collapse; margin: 0.5em 0 1.5em; }\n"
         "th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: right; }\n"
         "th { background: #eee; } td:first-child { text-align: left; }\n"
         "img { max-width: 100%; border: 1px solid #ccc; image-rendering: pixelated; }\n"
         "figure { display: inline-block; margin: 0.5em; vertical-align: top; }\n"
         "</style>\n</head>\n<body>\n" +
         body_ + "</body>\n</html>\n";
}

void HtmlReport::save() const { write_file_atomic(path_, html()); }

void add_json(HtmlReport& page, const json& result, size_t max_rows) {
  if (result.is_object())
    add_object(page, result, max_rows);
  else
    add_member(page, "results", result, json::object(), max_rows);
}

void write_report_page(const std::string& page_path, const std::string& title, const std::string& intro,
                       const std::vector<std::string>& files, const json& result,
                       const std::vector<std::string>& pictures) {
  HtmlReport page(page_path, title);
  if (!intro.empty()) page.paragraph(intro);
  for (const std::string& f : files) page.link(f, fs::path(f).filename().string());
  add_json(page, result);
  for (const std::string& p : pictures) page.image(p, p);
  page.save();
}

void write_run_report(const std::string& page_path, const std::string& model,
                      const std::string& command, const json& result) {
  if (page_path.empty()) return;
  const std::string program = program_name();
  const std::string model_file = model.empty() ? "data/models/" + program + ".safetensors" : model;
  // The result's JSON beside the page: the numbers on it, for a script.
  const std::string own_json = fs::path(page_path).replace_extension(".json").string();
  write_file_atomic(own_json, result.dump(2) + "\n");
  // The training curves fit wrote beside the model (lessons/common/fit.h).
  const std::string curves = fs::path(model_file).replace_extension(".svg").string();
  std::vector<std::string> pictures;
  if (fs::exists(curves)) pictures.push_back(curves);
  write_report_page(page_path, program + " " + command,
                    fmt::format("bin/{} {}, model {}", program, command, model_file), {own_json},
                    result, pictures);
}

bool result_wanted(const CommonArgs& a) { return a.json || !a.report.empty(); }

bool output_result(const CommonArgs& a, const std::string& command, const json& result) {
  write_run_report(a.report, a.model, command, result);
  if (a.json) fmt::print("{}\n", result.dump());
  return a.json;
}

Command add_command(Command& app, CommonArgs& a, const std::string& name, const std::string& help,
                    bool report) {
  Command sub = app.subcommand(name, help);
  add_common_flags(sub, a);
  if (report) add_report_flag(sub, a);
  return sub;
}

void add_report_flag(Command& sub, CommonArgs& a) { add_report_flag(sub, a.report); }

void add_report_flag(Command& sub, std::string& page) {
  // PAGE.json is written beside the page: a page named .json would be overwritten by it.
  sub.option("--report", page,
             "also write an HTML page of the results (pictures, tables, training curves) to "
             "this .html file, and the results as PAGE.json beside it")
      .check([](const std::string& s) {
               return ends_with(s, ".html") || ends_with(s, ".htm") ? "" : "must name a .html file (got " + s + ")";
             }, "PAGE.html");
}

}  // namespace dl::cli
