#include "models/backbone.h"

#include <fmt/core.h>

#include "data/batching.h"
#include "image/transforms.h"
#include "nn/safetensors.h"
#include "util/files.h"

namespace dl::models {

std::shared_ptr<Sequential> make_backbone(int in_channels, int c1, int c2, Rng& rng) {
  auto b = std::make_shared<Sequential>();
  // No conv bias before BN: BN's beta makes it redundant (Ioffe & Szegedy 2015, sec. 3.2).
  b->add(std::make_shared<Conv2d>(in_channels, c1, 3, 1, 1, rng, false));
  b->add(std::make_shared<BatchNorm2d>(c1));
  b->add(std::make_shared<ReLU>());
  b->add(std::make_shared<MaxPool2d>(2));
  b->add(std::make_shared<Conv2d>(c1, c2, 3, 1, 1, rng, false));
  b->add(std::make_shared<BatchNorm2d>(c2));
  b->add(std::make_shared<ReLU>());
  b->add(std::make_shared<MaxPool2d>(2));
  return b;
}

void backbone_fields(nn::ConfigFields& f, int& c1, int& c2) {
  f.field("c1", c1, 1, 4096);
  f.field("c2", c2, 1, 4096);
}

Tensor backbone_input(const Image& img, bool flip) {
  Tensor t = image_to_tensor(img);
  normalize_channels_(t, {kFashionMean, kFashionMean, kFashionMean},
                      {kFashionStd, kFashionStd, kFashionStd});
  return flip ? hflip(t) : t;
}

Tensor backbone_input_resized(const Image& img, int size) {
  if (img.width == size && img.height == size) return backbone_input(img);
  return backbone_input(resize_bilinear(img, size, size));
}

void check_resized_input(const Var& x, int size, const std::string& who) {
  check_shape(x.dim() == 4 && x.size(1) == 3 && x.size(2) == size && x.size(3) == size, who.c_str(),
              fmt::format("expects [N, 3, {0}, {0}] inputs, got {1}", size, shape_str(x.shape())));
}

int load_grey_backbone(const std::string& path, Module& model) {
  SafeTensors file = load_safetensors(path);
  auto arch = file.metadata.find("config");
  if (arch == file.metadata.end() || arch->second.find("\"small_cnn\"") == std::string::npos)
    throw FileError(path, "not a `classify` model (its metadata has no small_cnn config)");
  int loaded = 0;
  auto copy_into = [&](const std::string& name, Tensor& dst) {
    const Tensor* src = file.find(name);
    if (!src) throw FileError(path, "missing tensor '" + name + "'");
    if (name == "backbone.0.weight" && src->dim() == 4 && src->size(1) == 1 &&
        dst.dim() == 4 && dst.size(1) == 3 && src->size(0) == dst.size(0) &&
        src->size(2) == dst.size(2) && src->size(3) == dst.size(3)) {
      const int64_t k = src->size(2) * src->size(3);
      for (int64_t o = 0; o < dst.size(0); ++o)
        for (int c = 0; c < 3; ++c)
          for (int64_t i = 0; i < k; ++i) dst[(o * 3 + c) * k + i] = (*src)[o * k + i] / 3.0f;
    } else if (src->shape() == dst.shape()) {
      std::copy(src->begin(), src->end(), dst.begin());
    } else {
      throw FileError(path, fmt::format("tensor '{}' has shape {}, the model expects {}", name,
                                        src->shape_str(), dst.shape_str()));
    }
    ++loaded;
  };
  // The backbone may sit inside a composed model ("fast_rcnn.backbone.0.weight" in
  // Faster R-CNN): the classifier's tensor is the name from "backbone." on.
  auto classifier_name = [](const std::string& name) -> std::string {
    const size_t at = name.rfind("backbone.", 0) == 0 ? 0 : name.find(".backbone.");
    if (at == std::string::npos) return "";
    return name.substr(at == 0 ? 0 : at + 1);
  };
  for (auto& [name, var] : model.named_parameters())
    if (const std::string src = classifier_name(name); !src.empty()) copy_into(src, var.value());
  for (auto& [name, buf] : model.named_buffers())
    if (const std::string src = classifier_name(name); !src.empty()) copy_into(src, *buf);
  return loaded;
}

}  // namespace dl::models
