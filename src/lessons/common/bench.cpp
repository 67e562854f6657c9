#include "lessons/common/bench.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "lessons/common/model_file.h"

namespace dl::cli {

int bench_network(nn::Module& model, nn::Optimizer& opt, const std::vector<int>& batches,
                  const std::function<BenchForward(int batch)>& prepare, bool json_out) {
  nlohmann::json results = nlohmann::json::array();
  for (int batch : batches) {
    BenchForward forward = prepare(batch);
    model.eval();
    const double infer = items_per_second(
        [&] {
          NoGradGuard g;
          forward();
        },
        batch);
    model.train();
    const double train = items_per_second(
        [&] {
          Var loss = forward();
          opt.zero_grad();
          loss.backward();
          opt.step();
        },
        batch);
    results.push_back({{"batch", batch},
                       {"inference_images_per_s", infer},
                       {"training_images_per_s", train}});
    if (!json_out)
      fmt::print("batch {:>3}: inference {:>8.0f} images/s, training {:>7.0f} images/s\n", batch,
                 infer, train);
  }
  if (json_out) fmt::print("{}\n", results.dump());
  return 0;
}

}  // namespace dl::cli
