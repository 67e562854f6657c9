// safetensors reader and writer (format in safetensors.h).
#include "nn/safetensors.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "util/files.h"

namespace dl {

namespace {

using json = nlohmann::json;

// The format caps the header at 100 MB; a larger length means a damaged file.
constexpr uint64_t kMaxHeader = 100ull << 20;

static_assert(sizeof(float) == 4, "safetensors F32 needs 4-byte floats");

bool little_endian() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

}  // namespace

const Tensor* SafeTensors::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.first == name) return &t.second;
  return nullptr;
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  if (!little_endian()) throw FileError(path, "safetensors needs a little-endian machine");
  json header = json::object();
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__" || !names.insert(name).second)
      throw FileError(path, fmt::format("cannot save tensor with empty, reserved or duplicate "
                                        "name '{}'", name));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference
  // implementation does), which lets readers map the data in place.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out(8 + text.size() + offset, '\0');
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  std::memcpy(&out[8], text.data(), text.size());
  char* data = &out[8 + text.size()];
  for (const auto& [name, t] : tensors) {
    if (t.numel()) std::memcpy(data, t.data(), static_cast<size_t>(t.numel()) * 4);
    data += t.numel() * 4;
  }
  write_file_atomic(path, out);
}

SafeTensors load_safetensors(const std::string& path) {
  return parse_safetensors(read_file_bytes(path), path);
}

SafeTensors parse_safetensors(const std::vector<uint8_t>& bytes, const std::string& path) {
  if (bytes.size() < 8)
    throw FileError(path, fmt::format("not a safetensors file: {} bytes, shorter than the "
                                      "8-byte header length",
                                      bytes.size()));
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (n > kMaxHeader)
    throw FileError(path, fmt::format("not a safetensors file: header length {} exceeds the "
                                      "format's 100 MB limit",
                                      n));
  if (n > bytes.size() - 8)
    throw FileError(path, fmt::format("not a safetensors file or truncated: header length {} "
                                      "but the file has {} bytes",
                                      n, bytes.size()));
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n));
  } catch (const json::exception& e) {
    throw FileError(path, std::string("corrupt safetensors header: ") + e.what());
  }
  if (!header.is_object()) throw FileError(path, "corrupt safetensors header: not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  const uint8_t* data = bytes.data() + 8 + n;

  SafeTensors st;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw FileError(path, "__metadata__ is not a JSON object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw FileError(path, fmt::format("metadata '{}' is not a string", m.key()));
        st.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    try {
      const std::string dtype = v.at("dtype").get<std::string>();
      if (dtype != "F32")
        throw FileError(path, fmt::format("tensor '{}' has dtype {}, only F32 is supported", name,
                                          dtype));
      const Shape shape = v.at("shape").get<Shape>();
      const auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
      if (shape.size() > static_cast<size_t>(kMaxDims))
        throw FileError(path, fmt::format("tensor '{}' has {} dims, at most {} are supported",
                                          name, shape.size(), kMaxDims));
      uint64_t numel = 1;
      for (int64_t d : shape) {
        if (d < 0 || (d > 0 && numel > (uint64_t{1} << 40) / static_cast<uint64_t>(d)))
          throw FileError(path, fmt::format("tensor '{}' has an invalid shape {}", name,
                                            shape_str(shape)));
        numel *= static_cast<uint64_t>(d);
      }
      if (off.size() != 2 || off[0] > off[1] || off[1] > data_size)
        throw FileError(path, fmt::format("tensor '{}' has data offsets outside the {} data bytes "
                                          "(file truncated?)",
                                          name, data_size));
      if (off[1] - off[0] != numel * 4)
        throw FileError(path, fmt::format("tensor '{}' has {} data bytes, shape {} needs {}", name,
                                          off[1] - off[0], shape_str(shape), numel * 4));
      Tensor t(shape);
      if (numel) std::memcpy(t.data(), data + off[0], numel * 4);
      spans.push_back({off[0], off[1], name});
      st.tensors.emplace_back(name, std::move(t));
    } catch (const json::exception& e) {
      throw FileError(path, fmt::format("tensor '{}' has a malformed entry: {}", name, e.what()));
    }
  }
  // The data must be exactly the tensors laid end to end: no overlap, no gap.
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  uint64_t expected = 0;
  for (const Span& s : spans) {
    if (s.begin != expected)
      throw FileError(path, fmt::format("tensor '{}' data at byte {} {} the previous tensor", s.name,
                                        s.begin, s.begin < expected ? "overlaps" : "leaves a gap after"));
    expected = s.end;
  }
  if (expected != data_size)
    throw FileError(path, fmt::format("{} trailing data bytes belong to no tensor",
                                      data_size - expected));
  return st;
}

}  // namespace dl
