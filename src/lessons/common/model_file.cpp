#include "lessons/common/model_file.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "nn/checkpoint.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

std::string read_model_config(const std::string& path, const std::string& program) {
  if (!std::filesystem::exists(path))
    throw FileError(path, "no such model file (run `bin/" + program + " train` first)");
  auto meta = nn::read_checkpoint_metadata(path);
  auto it = meta.find("config");
  if (it == meta.end()) throw FileError(path, "not a detlab model: metadata has no 'config'");
  return it->second;
}

std::vector<std::string> read_model_names(const std::string& path, const std::string& key,
                                          int expected) {
  std::vector<std::string> names;
  try {
    names = nlohmann::json::parse(nn::read_checkpoint_metadata(path).at(key))
                .get<std::vector<std::string>>();
  } catch (const std::exception&) {
    throw FileError(path, "metadata has no valid '" + key + "' list");
  }
  if (static_cast<int>(names.size()) != expected)
    throw FileError(path, "its '" + key + "' list has " + std::to_string(names.size()) +
                              " names, the model has " + std::to_string(expected));
  return names;
}

double items_per_second(const std::function<void()>& fn, int items, double min_seconds) {
  fn();  // warm-up: first-touch allocations and caches
  int calls = 0;
  double elapsed = 0;
  const auto t0 = Clock::now();
  while (elapsed < min_seconds || calls < 3) {
    fn();
    ++calls;
    elapsed = seconds_since(t0);
  }
  return calls * items / elapsed;
}

}  // namespace dl::cli
