#include "nn/tfjs_weights.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "tensor/ops.h"
#include "util/files.h"

namespace dl {

namespace {

using json = nlohmann::json;

// No face network comes near this; a hostile manifest cannot make us allocate more.
constexpr int64_t kMaxElements = int64_t{1} << 28;

// A shard path must stay inside the manifest's folder (as coco.cpp refuses file_name
// values that leave the dataset folder): a manifest could otherwise point at any file.
bool safe_relative_path(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  for (const auto& part : std::filesystem::path(p))
    if (part == "..") return false;
  return true;
}

int64_t element_bytes(const std::string& stored) {
  if (stored == "uint8") return 1;
  if (stored == "uint16") return 2;
  return 4;  // float32 or int32, unquantised
}

std::string at_weight(const std::string& w) { return "weight '" + w + "'"; }

TfjsWeight parse_entry(const json& e, const std::string& name) {
  if (!e.is_object()) throw FileError(name, "a weights entry is not a JSON object");
  TfjsWeight w;
  if (!e.contains("name") || !e["name"].is_string())
    throw FileError(name, "a weights entry has no string \"name\"");
  w.name = e["name"].get<std::string>();
  if (!e.contains("dtype") || !e["dtype"].is_string())
    throw FileError(name, at_weight(w.name) + " has no string \"dtype\"");
  w.dtype = e["dtype"].get<std::string>();
  if (w.dtype != "float32" && w.dtype != "int32")
    throw FileError(name, at_weight(w.name) + " has unknown dtype '" + w.dtype + "'");
  if (!e.contains("shape") || !e["shape"].is_array() || e["shape"].size() > 8)
    throw FileError(name, at_weight(w.name) + " has no \"shape\" array of at most 8 sizes");
  int64_t n = 1;
  for (const json& d : e["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > kMaxElements)
      throw FileError(name, at_weight(w.name) + " has a shape size that is not an integer in [0, 2^28]");
    w.shape.push_back(d.get<int64_t>());
    n *= w.shape.back();
    if (n > kMaxElements) throw FileError(name, at_weight(w.name) + " has over 2^28 elements");
  }
  if (e.contains("quantization")) {
    const json& q = e["quantization"];
    if (!q.is_object() || !q.contains("dtype") || !q["dtype"].is_string())
      throw FileError(name, at_weight(w.name) + " has a \"quantization\" without a string \"dtype\"");
    w.quantization.dtype = q["dtype"].get<std::string>();
    if (w.quantization.dtype != "uint8" && w.quantization.dtype != "uint16")
      throw FileError(name, at_weight(w.name) + " has unknown quantization dtype '" +
                                w.quantization.dtype + "'");
    for (const char* key : {"scale", "min"})
      if (!q.contains(key) || !q[key].is_number() || !std::isfinite(q[key].get<double>()))
        throw FileError(name, at_weight(w.name) + " has no finite quantization \"" + key + "\"");
    w.quantization.scale = q["scale"].get<double>();
    w.quantization.min = q["min"].get<double>();
    // Every level q * scale + min must be a float (converting a larger double is undefined).
    if (std::fabs(w.quantization.min) + 65535.0 * std::fabs(w.quantization.scale) >
        std::numeric_limits<float>::max())
      throw FileError(name, at_weight(w.name) + " has a quantization range beyond float");
  }
  return w;
}

// Decodes n values starting at `p` into w.value.
void decode(TfjsWeight& w, const uint8_t* p, int64_t n) {
  w.value = Tensor::uninitialized(w.shape);
  if (n == 0) return;  // a zero-sized tensor has no storage to copy into
  float* out = w.value.data();
  const TfjsQuantization& q = w.quantization;
  if (q.dtype == "uint8") {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i] * q.scale + q.min);
  } else if (q.dtype == "uint16") {
    for (int64_t i = 0; i < n; ++i) {
      const int v = p[2 * i] | (p[2 * i + 1] << 8);  // little-endian, as TFJS writes
      out[i] = static_cast<float>(v * q.scale + q.min);
    }
  } else if (w.dtype == "float32") {
    std::memcpy(out, p, static_cast<size_t>(n) * 4);
  } else {  // int32
    for (int64_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      out[i] = static_cast<float>(v);
    }
  }
}

}  // namespace

std::vector<TfjsWeight> parse_tfjs_weights(const std::string& manifest_json,
                                           const std::string& name, const ShardReader& read_shard) {
  json doc;
  try {
    doc = json::parse(manifest_json);
  } catch (const json::exception& e) {
    throw FileError(name, std::string("not a JSON weights manifest (") + e.what() + ")");
  }
  if (!doc.is_array() || doc.empty())
    throw FileError(name, "a weights manifest is a non-empty JSON array of groups");
  std::vector<TfjsWeight> out;
  for (const json& group : doc) {
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() ||
        !group.contains("weights") || !group["weights"].is_array())
      throw FileError(name, "a group lacks the arrays \"paths\" and \"weights\"");
    // The group's shards, concatenated, hold its weights back to back.
    std::vector<uint8_t> bytes;
    for (const json& p : group["paths"]) {
      if (!p.is_string() || !safe_relative_path(p.get<std::string>()))
        throw FileError(name, "shard path " + p.dump() + " is not a relative path inside the manifest's folder");
      const std::vector<uint8_t> shard = read_shard(p.get<std::string>());
      bytes.insert(bytes.end(), shard.begin(), shard.end());
    }
    size_t offset = 0;
    for (const json& e : group["weights"]) {
      TfjsWeight w = parse_entry(e, name);
      int64_t n = 1;
      for (int64_t d : w.shape) n *= d;
      const size_t size = static_cast<size_t>(n * element_bytes(w.quantization.dtype.empty()
                                                                    ? w.dtype : w.quantization.dtype));
      if (size > bytes.size() - offset)
        throw FileError(name, at_weight(w.name) + " " + shape_str(w.shape) + " needs " +
                                  std::to_string(size) + " bytes but the shards end " +
                                  std::to_string(bytes.size() - offset) + " bytes later");
      decode(w, bytes.data() + offset, n);
      offset += size;
      for (const TfjsWeight& o : out)
        if (o.name == w.name) throw FileError(name, at_weight(w.name) + " appears twice");
      out.push_back(std::move(w));
    }
    if (offset != bytes.size())
      throw FileError(name, "the shards hold " + std::to_string(bytes.size()) +
                                " bytes but the group's weights use " + std::to_string(offset));
  }
  return out;
}

std::vector<TfjsWeight> load_tfjs_weights(const std::string& manifest_path) {
  const std::filesystem::path dir = std::filesystem::path(manifest_path).parent_path();
  return parse_tfjs_weights(read_file_text(manifest_path, 64ull << 20), manifest_path,
                            [&](const std::string& rel) { return read_file_bytes((dir / rel).string()); });
}

Tensor to_detlab_layout(const TfjsWeight& w) {
  const Shape& s = w.shape;
  if (s.size() == 4 && w.name.find("depthwise") != std::string::npos)  // [kh, kw, C, m]
    return permute(w.value, {2, 3, 0, 1}).reshape({s[2] * s[3], 1, s[0], s[1]});
  if (s.size() == 4) return permute(w.value, {3, 2, 0, 1});  // HWIO -> OIHW
  if (s.size() == 2) return permute(w.value, {1, 0});        // [in, out] -> [out, in]
  return w.value.clone();
}

Tensor requantize(const Tensor& values, const TfjsQuantization& q, int bits) {
  check_shape(bits >= 1 && bits <= 16, "requantize", "bits must be 1..16");
  const double levels = std::ldexp(1.0, bits) - 1;
  const double step = q.scale * 255.0 / levels;
  Tensor out = values.clone();
  if (step <= 0) return out;
  for (float& v : out) {
    const double k = std::min(std::max(std::round((v - q.min) / step), 0.0), levels);
    v = static_cast<float>(k * step + q.min);
  }
  return out;
}

std::string detlab_weight_name(const std::string& tfjs_name) {
  std::string s = tfjs_name;
  for (char& c : s)
    if (c == '/') c = '.';
  return s;
}

}  // namespace dl
