// The safetensors file format (Hugging Face's, readable by any language without
// executing code), float32 only:
//
//   8 bytes     little-endian uint64 N: length of the JSON header
//   N bytes     JSON: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//                      ..., "__metadata__": {"key": "string value", ...}}
//   rest        the raw little-endian tensor data; offsets are relative to its start
//
// Writing goes through a temporary file and a rename, so an interrupted run never
// leaves a broken file. Reading checks everything a damaged or foreign file can get
// wrong (header length, JSON, dtypes, shapes, offsets: in bounds, matching the size,
// contiguous and non-overlapping) and throws FileError(path, "what is wrong").
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace dl {

struct SafeTensors {
  std::vector<std::pair<std::string, Tensor>> tensors;  // sorted by name
  std::map<std::string, std::string> metadata;          // safetensors allows strings only
  const Tensor* find(const std::string& name) const;    // nullptr when absent
};

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata);

SafeTensors load_safetensors(const std::string& path);
// The same from a file's bytes in memory; `name` is used in error messages.
SafeTensors parse_safetensors(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace dl
