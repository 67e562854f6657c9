// import_tfjs: a TensorFlow.js weights manifest + its .bin shards -> one safetensors file
// that detlab's models load (lessons/06-yolo-ssd.md "a real one", 02-deeppose.md).
//   bin/import_tfjs MANIFEST.json --out FILE.safetensors [--quiet]
// Every tensor is checked against the shards' sizes and dequantised (q * scale + min);
// filters go from TensorFlow's HWIO layout to detlab's OIHW (nn/tfjs_weights.h). The
// metadata keeps each tensor's quantisation (scale, min), so a lesson can re-round.
// Exit 0 ok, 1 bad manifest or shard (one line naming the file), 2 usage.
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "lessons/common/cli.h"
#include "nn/safetensors.h"
#include "nn/tfjs_weights.h"

using namespace dl;

int main(int argc, char** argv) {
  cli::CommandLine app{"import_tfjs: a TensorFlow.js weights manifest -> safetensors"};
  std::string manifest, out;
  bool quiet = false;
  app.option("manifest", manifest, "the *-weights_manifest.json (shards beside it)").required();
  app.option("--out", out, "the safetensors file to write").required();
  app.flag("--quiet", quiet, "no summary line");
  if (int rc = cli::parse(app, argc, argv); rc >= 0) return rc;
  return cli::run_guarded([&] {
    const std::vector<TfjsWeight> weights = load_tfjs_weights(manifest);
    std::vector<std::pair<std::string, Tensor>> tensors;
    nlohmann::json quant = nlohmann::json::object();
    int64_t values = 0, quantised = 0;
    for (const TfjsWeight& w : weights) {
      tensors.emplace_back(detlab_weight_name(w.name), to_detlab_layout(w));
      values += w.value.numel();
      if (!w.quantization.dtype.empty()) {
        quant[detlab_weight_name(w.name)] = {{"dtype", w.quantization.dtype},
                                             {"scale", w.quantization.scale},
                                             {"min", w.quantization.min}};
        quantised += w.value.numel();
      }
    }
    std::sort(tensors.begin(), tensors.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    save_safetensors(out, tensors,
                     {{"format", "tfjs-import"},
                      {"source", std::filesystem::path(manifest).filename().string()},
                      {"tfjs_quantization", quant.dump()}});
    if (!quiet)
      fmt::print("{}: {} tensors, {} values ({} quantised) -> {}\n", manifest, weights.size(),
                 values, quantised, out);
    return 0;
  });
}
