// The `bench` subcommand of a program built around one network: for each batch size,
// images/s of inference (eval mode, no gradients) and of a training step (forward,
// backward, optimizer update), timed by items_per_second. Printed as a table, or as
// one JSON array with --json.
#pragma once
#include <functional>
#include <vector>

#include "nn/module.h"

namespace dl::cli {

// Runs the network once on a batch prepared for `batch` images: inference when
// `training` is false, else one full training step.
using BenchStep = std::function<void(bool training)>;

// prepare(batch) builds the inputs of one batch size and returns its step.
int bench_network(nn::Module& model, const std::vector<int>& batches,
                  const std::function<BenchStep(int batch)>& prepare, bool json_out);

}  // namespace dl::cli
