#include "lessons/common/pretrained.h"

#include <fmt/core.h>

#include "models/backbone.h"

namespace dl::cli {

void add_pretrained_flags(Command& train, std::string& pretrained, bool& scratch) {
  train.option("--pretrained", pretrained, "classify model whose backbone to start from");
  train.flag("--scratch", scratch, "random initial weights instead of --pretrained");
}

std::string start_from_pretrained(const std::string& pretrained, bool scratch,
                                  nn::Module& model, bool quiet) {
  std::string init = "scratch";
  if (!scratch) {
    const int loaded = models::load_grey_backbone(pretrained, model);
    init = pretrained;
    if (!quiet) fmt::print(stderr, "backbone: {} tensors from {}\n", loaded, pretrained);
  }
  if (!quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));
  return init;
}

}  // namespace dl::cli
