// TensorFlow.js weights: a manifest (JSON) naming every tensor with its shape, dtype and
// optional quantisation, plus binary shards holding the values back to back.
//
//   [{"paths": ["net.bin", ...],                  one group: its shards concatenated
//     "weights": [{"name": "conv0/filters", "shape": [3, 3, 3, 16], "dtype": "float32",
//                  "quantization": {"dtype": "uint8", "scale": s, "min": m}}, ...]}, ...]
//
// A quantised tensor stores one uint8 (or uint16) q per value; the float is q * scale +
// min (affine quantisation: 256 levels spread between min and min + 255 * scale). The
// trained face networks of face-api exist only in this form: their float originals were
// never published.
//
// Reading checks what a damaged or foreign manifest can get wrong and throws
// FileError(path, "what is wrong"): JSON and fields, dtypes it does not know, negative or
// huge shapes, shard paths leaving the manifest's folder, missing shards, and a group
// whose tensors do not add up to exactly its shards' bytes.
//
// Layouts: TensorFlow stores a convolution's filter as [kh, kw, in, out] (HWIO), a
// depthwise filter as [kh, kw, C, multiplier] and a dense layer as [in, out]; detlab's
// conv2d wants [out, in / groups, kh, kw] and Linear [out, in]. to_detlab_layout converts.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace dl {

struct TfjsQuantization {
  std::string dtype;    // "uint8", "uint16" or "" (stored as float32)
  double scale = 1.0, min = 0.0;
};

struct TfjsWeight {
  std::string name;            // as in the manifest, e.g. "conv1/depthwise_filter"
  std::string dtype;           // "float32" or "int32" (int32 values are kept as floats)
  Shape shape;                 // as in the manifest (TensorFlow's layout)
  TfjsQuantization quantization;
  Tensor value;                // dequantised, in the manifest's shape and layout
};

// Reads a shard by its path relative to the manifest's folder (already checked).
using ShardReader = std::function<std::vector<uint8_t>(const std::string& relative_path)>;

// Parses a manifest's text; `name` is used in error messages.
std::vector<TfjsWeight> parse_tfjs_weights(const std::string& manifest_json,
                                           const std::string& name, const ShardReader& read_shard);
// From files: shards are read from the manifest's folder.
std::vector<TfjsWeight> load_tfjs_weights(const std::string& manifest_path);

// TensorFlow's layout -> detlab's: rank-4 filters HWIO -> OIHW, depthwise filters (named
// "*depthwise*") [kh, kw, C, m] -> [C * m, 1, kh, kw], dense [in, out] -> [out, in];
// other ranks unchanged.
Tensor to_detlab_layout(const TfjsWeight& w);
// The values re-rounded onto 2^bits evenly spaced levels spanning the same range as q's
// 256 (min .. min + 255 scale): what the network would compute had it been stored with
// fewer bits. bits = 8 gives back the dequantised values themselves (up to rounding).
Tensor requantize(const Tensor& values, const TfjsQuantization& q, int bits);

// The safetensors name: the manifest's name with '/' replaced by '.'.
std::string detlab_weight_name(const std::string& tfjs_name);

}  // namespace dl
