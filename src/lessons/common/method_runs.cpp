#include "lessons/common/method_runs.h"

#include <fmt/core.h>

#include <filesystem>

#include "grading/child_process.h"
#include "util/files.h"

namespace dl::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string program_of(const std::string& method) { return method.substr(0, method.find(':')); }

std::string model_stem_of(const std::string& method) {
  const size_t colon = method.find(':');
  return colon == std::string::npos ? method : method.substr(colon + 1);
}

std::string program_path(const std::string& name) {
  const std::string program = (fs::path(grading::self_executable()).parent_path() / name).string();
  if (!fs::exists(program))
    throw FileError(program, "no such program: --methods takes detlab program names (bin/NAME)");
  return program;
}

std::string model_of(const std::string& method, const std::string& models_dir) {
  const std::string model = (fs::path(models_dir) / (model_stem_of(method) + ".safetensors")).string();
  if (!fs::exists(model))
    throw FileError(model, fmt::format("no such model; train it with `bin/{} train`", program_of(method)));
  return model;
}

bool takes_proposal_cache(const std::string& program) {
  const std::string tmp = grading::make_temp_dir("compare");
  const std::string out = tmp + "/help.txt", err = tmp + "/err.txt";
  const grading::ChildResult c = grading::run_child({program, "eval", "--help"}, out, err, 60);
  const bool takes = c.exit_code == 0 && read_file_text(out).find("--cache-dir") != std::string::npos;
  fs::remove_all(tmp);
  return takes;
}

json run_json(const std::string& program, const std::vector<std::string>& argv, double time_limit) {
  const std::string tmp = grading::make_temp_dir("compare");
  const std::string out = tmp + "/out.json", err = tmp + "/err.txt";
  const grading::ChildResult c = grading::run_child(argv, out, err, time_limit);
  const std::string stdout_text = read_file_text(out), stderr_text = read_file_text(err);
  fs::remove_all(tmp);
  if (c.timed_out || c.exit_code != 0) {
    std::string why = c.timed_out ? "timed out" : c.signal ? grading::signal_name(c.signal)
                                                           : stderr_text;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw FileError(program, fmt::format("{} failed: {}", argv.at(1), why.substr(why.rfind('\n') + 1)));
  }
  return json::parse(stdout_text, nullptr, false);
}

}  // namespace dl::cli
