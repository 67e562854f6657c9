#include "lessons/common/training_time.h"

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "nn/checkpoint.h"
#include "util/files.h"

namespace dl::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

double recorded_train_seconds(const std::string& model) {
  const fs::path stem = fs::path(model).parent_path() / fs::path(model).stem();
  if (fs::exists(stem.string() + ".train.json")) {
    const json j = json::parse(read_file_text(stem.string() + ".train.json"), nullptr, false);
    // Logs are written before their model: a run killed in between leaves an older
    // model beside newer logs, whose times are not this model's.
    if (j.is_object() && j.contains("weights_fingerprint") && j["weights_fingerprint"].is_string() &&
        j["weights_fingerprint"].get<std::string>() != fmt::format("{:016x}", nn::weights_fingerprint(model))) {
      fmt::print(stderr, "note: {}.train.json belongs to another run than {} (killed before saving?); "
                 "its training time is not shown\n", stem.string(), model);
      return -1;
    }
    if (j.is_object() && j.contains("train_seconds") && j["train_seconds"].is_number())
      return j["train_seconds"].get<double>();
  }
  std::vector<std::string> logs = {stem.string() + ".csv"};
  for (int s = 2; s <= 9; ++s) logs.push_back(fmt::format("{}.stage{}.csv", stem.string(), s));
  double total = 0;
  bool any = false;
  for (const std::string& path : logs) {
    if (!fs::exists(path)) continue;
    std::istringstream in(read_file_text(path));
    std::string line, name;
    std::getline(in, line);
    int column = -1, i = 0;
    for (std::istringstream h(line); std::getline(h, name, ','); ++i)
      if (name == "seconds") column = i;
    if (column < 0) continue;
    while (std::getline(in, line)) {
      std::istringstream row(line);
      std::string value;
      for (int k = 0; k <= column && std::getline(row, value, ','); ++k) {}
      total += std::atof(value.c_str());
      any = true;
    }
  }
  return any ? total : -1;
}

}  // namespace dl::cli
