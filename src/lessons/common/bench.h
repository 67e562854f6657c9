// The `bench` subcommand of a program built around one network: for each batch size,
// images/s of inference (eval mode, no gradients) and of a training step (forward,
// backward, optimizer update), timed by items_per_second. Printed as a table, or as
// one JSON array with --json.
#pragma once
#include <functional>
#include <vector>

#include "autograd/variable.h"
#include "nn/module.h"
#include "nn/optimizer.h"

namespace dl::cli {

// The network's forward pass on a batch prepared for `batch` images, returning the
// training loss (inference ignores it; a training step backpropagates it and
// updates with `opt`).
using BenchForward = std::function<Var()>;

// prepare(batch) builds the inputs of one batch size and returns its forward pass.
int bench_network(nn::Module& model, nn::Optimizer& opt, const std::vector<int>& batches,
                  const std::function<BenchForward(int batch)>& prepare, bool json_out);

}  // namespace dl::cli
