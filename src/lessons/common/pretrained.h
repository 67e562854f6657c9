// Transfer learning as lessons 01-04 do it (the lecture's "ImageNet pretraining"): a new
// model's layers named "backbone.*" start from lesson 00's classifier
// (models::load_grey_backbone), unless the student asks for --scratch.
#pragma once
#include <string>

#include "lessons/common/cli.h"
#include "nn/layers.h"

namespace dl::cli {

constexpr const char* kPretrainedModel = "data/models/classify.safetensors";

// --pretrained FILE and --scratch on `train`.
void add_pretrained_flags(Command& train, std::string& pretrained, bool& scratch);

// Loads `pretrained`'s backbone into `model` unless `scratch` ("backbone: N tensors from
// FILE" on stderr), then prints the model's layers; quiet prints nothing. Returns what the
// model file records as its "init": "scratch" or the file.
std::string start_from_pretrained(const std::string& pretrained, bool scratch,
                                  nn::Module& model, bool quiet);

}  // namespace dl::cli
