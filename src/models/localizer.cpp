#include "models/localizer.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "nn/safetensors.h"
#include "models/classifier.h"
#include "util/files.h"

namespace dl::models {

std::string LocalizerConfig::to_json() const {
  nlohmann::json j = {{"arch", "localizer"}, {"input_size", input_size}, {"c1", c1},
                      {"c2", c2},            {"c3", c3},                 {"c4", c4},
                      {"hidden", hidden},    {"num_classes", num_classes}, {"dropout", dropout},
                      {"cls_input", cls_input}};
  return j.dump();
}

LocalizerConfig LocalizerConfig::from_json(const std::string& text) {
  LocalizerConfig c;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("arch", "") != "localizer")
      throw std::invalid_argument("not a classify_localize model (arch '" +
                                  j.value("arch", std::string("?")) + "')");
    c.input_size = j.at("input_size");
    c.c1 = j.at("c1");
    c.c2 = j.at("c2");
    c.c3 = j.at("c3");
    c.c4 = j.at("c4");
    c.hidden = j.at("hidden");
    c.num_classes = j.at("num_classes");
    c.dropout = j.at("dropout");
    c.cls_input = j.value("cls_input", std::string("fc"));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  if (c.input_size < 16 || c.input_size % 16 != 0 || c.input_size > 1024 || c.c1 < 1 ||
      c.c2 < 1 || c.c3 < 1 || c.c4 < 1 || c.hidden < 1 || c.num_classes < 1 || c.c1 > 4096 ||
      c.c2 > 4096 || c.c3 > 4096 || c.c4 > 4096 || c.hidden > 65536)
    throw std::invalid_argument("bad model config: sizes out of range");
  if (c.cls_input != "fc" && c.cls_input != "avg")
    throw std::invalid_argument("bad model config: cls_input must be \"fc\" or \"avg\"");
  return c;
}

namespace {
void add_conv_block(Sequential& s, int in, int out, Rng& rng) {
  s.add(std::make_shared<Conv2d>(in, out, 3, 1, 1, rng, false));
  s.add(std::make_shared<BatchNorm2d>(out));
  s.add(std::make_shared<ReLU>());
  s.add(std::make_shared<MaxPool2d>(2));
}
}  // namespace

Localizer::Localizer(const LocalizerConfig& cfg, Rng& rng) : config(cfg) {
  backbone = make_backbone(3, cfg.c1, cfg.c2, rng);
  neck = std::make_shared<Sequential>();
  add_conv_block(*neck, cfg.c2, cfg.c3, rng);
  add_conv_block(*neck, cfg.c3, cfg.c4, rng);
  const int s = cfg.input_size / 16;
  fc = std::make_shared<Sequential>();
  fc->add(std::make_shared<Flatten>());
  fc->add(std::make_shared<Linear>(cfg.c4 * s * s, cfg.hidden, rng));
  fc->add(std::make_shared<ReLU>());
  fc->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  cls_head = std::make_shared<Linear>(cfg.cls_input == "avg" ? cfg.c4 : cfg.hidden,
                                      cfg.num_classes, rng);
  box_head = std::make_shared<Linear>(cfg.hidden, 4, rng);
  // Heads start small, as in Fast R-CNN's released models (scores N(0, 0.01), boxes
  // N(0, 0.001)): the first losses are then ~log(classes) and the L2 loss of the mean
  // box, instead of gradients large enough to throw the shared layers off.
  for (float& w : cls_head->weight.value()) w = rng.normal(0.0f, 0.01f);
  for (float& w : box_head->weight.value()) w = rng.normal(0.0f, 0.001f);
  const float mean_box[4] = {0.5f, 0.5f, 0.3f, 0.3f};
  for (int i = 0; i < 4; ++i) box_head->bias.value()[i] = mean_box[i];
  register_module("backbone", backbone);
  register_module("neck", neck);
  register_module("fc", fc);
  register_module("cls_head", cls_head);
  register_module("box_head", box_head);
}

LocalizerOutput Localizer::predict(const Var& x) {
  check_shape(x.dim() == 4 && x.size(1) == 3 && x.size(2) == config.input_size &&
                  x.size(3) == config.input_size,
              "Localizer",
              fmt::format("expected [N, 3, {0}, {0}] images, got {1}", config.input_size,
                          shape_str(x.shape())));
  Var f = (*neck)((*backbone)(x));
  Var h = (*fc)(f);
  Var cls_in = config.cls_input == "avg" ? ag::mean(f, {2, 3}) : h;
  return {(*cls_head)(cls_in), (*box_head)(h)};
}

}  // namespace dl::models
