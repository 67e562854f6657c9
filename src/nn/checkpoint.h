// Checkpoints: a module's parameters and buffers in a safetensors file, keyed by the
// dotted names of named_parameters()/named_buffers(), plus metadata strings (model
// config, class names, training args as JSON). Loading checks every name and shape
// against the model and says exactly what is wrong.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace dl::nn {

void save_checkpoint(const std::string& path, Module& model,
                     const std::map<std::string, std::string>& metadata = {});

// Strict load: the file must hold exactly the model's tensors with the same shapes.
// Throws FileError(path, "missing tensor 'x'" / "unexpected tensor 'y'" /
// "tensor 'z' has shape [..], model expects [..]" / "tensor 'w' holds a non-finite
// value"). Returns the metadata.
// All checks run before anything is copied: a refused file leaves the model unchanged.
std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& model);

// A 64-bit FNV-1a over the tensors' names, shapes and bytes in name order: the same for
// a model in memory and for the file it was saved to. Training logs carry it, so a log
// can be matched to its model (a kill between writing the two must not pair a new log
// with an old model unnoticed).
uint64_t weights_fingerprint(Module& model);
uint64_t weights_fingerprint(const std::string& model_path);

// Only the metadata (e.g. to read the model config before building the model).
std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path);

// What a partial load did, tensor by tensor (transfer learning: a pretrained
// backbone into a bigger model).
struct LoadReport {
  std::vector<std::string> loaded;       // copied from the file
  std::vector<std::string> skipped;      // in the file but not wanted / not in the model
  std::vector<std::string> initialised;  // in the model, not loaded: keep their fresh init
  std::map<std::string, std::string> metadata;
  // "loaded N tensors, skipped M, newly initialised K", then one line listing the
  // skipped names and one listing the newly initialised ones (when any).
  std::string str() const;
};

// Loads the file's tensors whose names start with `file_prefix`, renamed to
// `model_prefix` + rest (e.g. "backbone." -> "backbone."; or "" -> "features.").
// A tensor whose shape differs from the model's, or that holds NaN or Inf, throws
// FileError (model unchanged).
LoadReport load_checkpoint_prefix(const std::string& path, Module& model,
                                  const std::string& file_prefix,
                                  const std::string& model_prefix);

}  // namespace dl::nn
