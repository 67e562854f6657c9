#include "nn/checkpoint.h"

#include <fmt/core.h>

#include <set>

#include "nn/safetensors.h"
#include "util/files.h"

namespace dl::nn {

std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path) {
  return load_safetensors(path).metadata;
}

// Every tensor of the model by name: parameters first, then buffers.
static std::vector<std::pair<std::string, Tensor*>> state(Module& model) {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& p : model.named_parameters()) out.emplace_back(p.first, &p.second.node()->value);
  for (auto& b : model.named_buffers()) out.push_back(b);
  return out;
}

void save_checkpoint(const std::string& path, Module& model,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& s : state(model)) tensors.emplace_back(s.first, *s.second);
  save_safetensors(path, tensors, metadata);
}

static void copy_into(const std::string& path, const std::string& name, const Tensor& src,
                      Tensor& dst) {
  if (src.shape() != dst.shape())
    throw FileError(path, fmt::format("tensor '{}' has shape {}, model expects {}", name,
                                      src.shape_str(), dst.shape_str()));
  std::copy(src.begin(), src.end(), dst.begin());
}

std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& model) {
  SafeTensors file = load_safetensors(path);
  auto st = state(model);
  std::set<std::string> wanted;
  for (auto& s : st) {
    wanted.insert(s.first);
    if (!file.find(s.first)) throw FileError(path, fmt::format("missing tensor '{}'", s.first));
  }
  for (auto& t : file.tensors)
    if (!wanted.count(t.first)) throw FileError(path, fmt::format("unexpected tensor '{}'", t.first));
  for (auto& s : st) copy_into(path, s.first, *file.find(s.first), *s.second);
  return file.metadata;
}

LoadReport load_checkpoint_prefix(const std::string& path, Module& model,
                                  const std::string& file_prefix,
                                  const std::string& model_prefix) {
  SafeTensors file = load_safetensors(path);
  LoadReport r;
  r.metadata = file.metadata;
  auto st = state(model);
  std::set<std::string> done;
  for (auto& t : file.tensors) {
    if (t.first.compare(0, file_prefix.size(), file_prefix) != 0) {
      r.skipped.push_back(t.first);
      continue;
    }
    const std::string target = model_prefix + t.first.substr(file_prefix.size());
    Tensor* dst = nullptr;
    for (auto& s : st)
      if (s.first == target) dst = s.second;
    if (!dst) {
      r.skipped.push_back(t.first);
      continue;
    }
    copy_into(path, t.first, t.second, *dst);
    r.loaded.push_back(target);
    done.insert(target);
  }
  for (auto& s : st)
    if (!done.count(s.first)) r.initialised.push_back(s.first);
  return r;
}

std::string LoadReport::str() const {
  std::string s = fmt::format("loaded {} tensors, skipped {}, newly initialised {}",
                              loaded.size(), skipped.size(), initialised.size());
  if (!initialised.empty()) {
    s += " (";
    for (size_t i = 0; i < initialised.size(); ++i) s += (i ? ", " : "") + initialised[i];
    s += ")";
  }
  return s;
}

}  // namespace dl::nn
