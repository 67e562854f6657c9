// Checkpoints on top of the safetensors format (nn/safetensors.h).
#include "nn/checkpoint.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "nn/safetensors.h"
#include "util/files.h"

namespace dl::nn {

namespace {

// Every tensor of the model by name: parameters first, then buffers, in the
// module's registration order (so files written by identical runs are identical).
std::vector<std::pair<std::string, Tensor*>> state(Module& model) {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& p : model.named_parameters()) out.emplace_back(p.first, &p.second.node()->value);
  for (auto& b : model.named_buffers()) out.push_back(b);
  return out;
}

void check_shape(const std::string& path, const std::string& file_name, const Tensor& src,
                 const std::string& model_name, const Tensor& dst) {
  if (src.shape() == dst.shape()) return;
  if (file_name == model_name)
    throw FileError(path, fmt::format("tensor '{}' has shape {}, model expects {}", file_name,
                                      src.shape_str(), dst.shape_str()));
  throw FileError(path, fmt::format("tensor '{}' has shape {}, model's '{}' expects {}", file_name,
                                    src.shape_str(), model_name, dst.shape_str()));
}

// A weight that is NaN or infinite (a diverged run, a corrupted file) would turn every
// output into NaN boxes and metrics without an error; it is refused at the door.
void check_finite(const std::string& path, const std::string& name, const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i]))
      throw FileError(path, fmt::format("tensor '{}' holds a non-finite value ({} at index {})",
                                        name, t[i], i));
}

}  // namespace

std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path) {
  return load_safetensors(path).metadata;
}

namespace {
uint64_t fingerprint(std::vector<std::pair<std::string, const Tensor*>> ts) {
  std::sort(ts.begin(), ts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  };
  for (const auto& [name, t] : ts) {
    mix(name.data(), name.size() + 1);
    for (int64_t d : t->shape()) mix(&d, sizeof d);
    mix(t->data(), static_cast<size_t>(t->numel()) * sizeof(float));
  }
  return h;
}
}  // namespace

uint64_t weights_fingerprint(Module& model) {
  std::vector<std::pair<std::string, const Tensor*>> ts;
  for (auto& s : state(model)) ts.emplace_back(s.first, s.second);
  return fingerprint(ts);
}

uint64_t weights_fingerprint(const std::string& model_path) {
  const SafeTensors file = load_safetensors(model_path);
  std::vector<std::pair<std::string, const Tensor*>> ts;
  for (const auto& t : file.tensors) ts.emplace_back(t.first, &t.second);
  return fingerprint(ts);
}

void save_checkpoint(const std::string& path, Module& model,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& s : state(model)) tensors.emplace_back(s.first, *s.second);
  save_safetensors(path, tensors, metadata);
}

// Every check runs before the first copy: a refused file leaves the model as it was.
std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& model) {
  const SafeTensors file = load_safetensors(path);
  const auto st = state(model);
  std::set<std::string> wanted;
  for (const auto& s : st) {
    wanted.insert(s.first);
    const Tensor* src = file.find(s.first);
    if (!src) throw FileError(path, fmt::format("missing tensor '{}'", s.first));
    check_shape(path, s.first, *src, s.first, *s.second);
    check_finite(path, s.first, *src);
  }
  for (const auto& t : file.tensors)
    if (!wanted.count(t.first))
      throw FileError(path, fmt::format("unexpected tensor '{}' (not in the model)", t.first));
  for (const auto& s : st) {
    const Tensor& src = *file.find(s.first);
    std::copy(src.begin(), src.end(), s.second->begin());
  }
  return file.metadata;
}

LoadReport load_checkpoint_prefix(const std::string& path, Module& model,
                                  const std::string& file_prefix,
                                  const std::string& model_prefix) {
  const SafeTensors file = load_safetensors(path);
  const auto st = state(model);
  std::map<std::string, Tensor*> by_name(st.begin(), st.end());
  LoadReport r;
  r.metadata = file.metadata;
  std::vector<std::pair<const Tensor*, Tensor*>> copies;
  std::set<std::string> done;
  for (const auto& t : file.tensors) {
    if (t.first.compare(0, file_prefix.size(), file_prefix) != 0) {
      r.skipped.push_back(t.first);
      continue;
    }
    const std::string target = model_prefix + t.first.substr(file_prefix.size());
    auto it = by_name.find(target);
    if (it == by_name.end()) {
      r.skipped.push_back(t.first);
      continue;
    }
    check_shape(path, t.first, t.second, target, *it->second);
    check_finite(path, t.first, t.second);
    copies.emplace_back(&t.second, it->second);
    r.loaded.push_back(target);
    done.insert(target);
  }
  for (const auto& c : copies) std::copy(c.first->begin(), c.first->end(), c.second->begin());
  for (const auto& s : st)
    if (!done.count(s.first)) r.initialised.push_back(s.first);
  return r;
}

std::string LoadReport::str() const {
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  std::string s = fmt::format("loaded {} tensors, skipped {}, newly initialised {}",
                              loaded.size(), skipped.size(), initialised.size());
  if (!skipped.empty()) s += "\n  skipped: " + list(skipped);
  if (!initialised.empty()) s += "\n  newly initialised: " + list(initialised);
  return s;
}

}  // namespace dl::nn
