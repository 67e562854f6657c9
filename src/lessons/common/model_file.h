// Model files as every program uses them: the checkpoint's "config" metadata says
// which architecture to build before loading the weights, and a missing file or a
// model written by another program is a one-line error naming the file.
#pragma once
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "tensor/rng.h"
#include "util/files.h"

namespace dl::cli {

// The "config" metadata (JSON) of `path`. `program` names who writes such files, for
// the hint in the message: "no such model file (run `bin/<program> train` first)".
std::string read_model_config(const std::string& path, const std::string& program);

// The same, parsed by Config::from_json; its std::invalid_argument ("not a
// classify_localize model (arch 'fast_rcnn')", "bad model config: ...") becomes a
// FileError naming the file.
template <class Config>
Config read_model_config_as(const std::string& path, const std::string& program) {
  try {
    return Config::from_json(read_model_config(path, program));
  } catch (const std::invalid_argument& e) {
    throw FileError(path, e.what());
  }
}

// The names listed in `path`'s metadata under `key` ("classes": the object classes,
// background excluded; "joints"). FileError when the list is missing, not a list of
// strings, or not `expected` long.
std::vector<std::string> read_model_names(const std::string& path, const std::string& key,
                                          int expected);

// A Model built from cfg with `path`'s weights, in eval mode (the weights' shapes must
// match the config: nn::load_checkpoint throws FileError otherwise).
template <class Model, class Config>
std::unique_ptr<Model> load_weights(const std::string& path, const Config& cfg) {
  Rng rng(0);  // every parameter is overwritten by the checkpoint
  auto model = std::make_unique<Model>(cfg, rng);
  nn::load_checkpoint(path, *model);
  model->eval();
  return model;
}

// A detector's model file, checked in this order: its config (read_model_config_as),
// its "classes" list (cfg.classes() names, background excluded; copied to `classes`
// when given) and its weights (load_weights).
template <class Model, class Config>
std::unique_ptr<Model> load_detector(const std::string& path, const std::string& program,
                                     std::vector<std::string>* classes = nullptr) {
  const auto cfg = read_model_config_as<Config>(path, program);
  std::vector<std::string> names = read_model_names(path, "classes", cfg.classes());
  if (classes) *classes = std::move(names);
  return load_weights<Model>(path, cfg);
}

// Times fn (after one warm-up call) for at least min_seconds and 3 calls; returns
// calls per second multiplied by `items` (images/s when fn processes a batch).
double items_per_second(const std::function<void()>& fn, int items, double min_seconds = 1.0);

}  // namespace dl::cli
