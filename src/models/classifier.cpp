#include "models/classifier.h"

#include <nlohmann/json.hpp>

namespace dl::models {

std::string SmallCnnConfig::to_json() const {
  nlohmann::json j = {{"arch", "small_cnn"}, {"in_channels", in_channels}, {"c1", c1},
                      {"c2", c2}, {"num_classes", num_classes}, {"input_size", input_size},
                      {"dropout", dropout}};
  return j.dump();
}

SmallCnnConfig SmallCnnConfig::from_json(const std::string& text) {
  SmallCnnConfig c;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("arch", "") != "small_cnn") throw std::invalid_argument("not a small_cnn config");
    c.in_channels = j.at("in_channels");
    c.c1 = j.at("c1");
    c.c2 = j.at("c2");
    c.num_classes = j.at("num_classes");
    c.input_size = j.at("input_size");
    c.dropout = j.at("dropout");
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  if (c.in_channels < 1 || c.c1 < 1 || c.c2 < 1 || c.num_classes < 1 || c.input_size < 4 ||
      c.input_size % 4 != 0 || c.c1 > 4096 || c.c2 > 4096)
    throw std::invalid_argument("bad model config: sizes out of range");
  return c;
}

SmallCnn::SmallCnn(const SmallCnnConfig& cfg, Rng& rng) : config(cfg) {
  backbone = make_backbone(cfg.in_channels, cfg.c1, cfg.c2, rng);
  const int s = cfg.input_size / 4;
  head = std::make_shared<Sequential>();
  head->add(std::make_shared<Flatten>());
  head->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  head->add(std::make_shared<Linear>(cfg.c2 * s * s, cfg.num_classes, rng));
  register_module("backbone", backbone);
  register_module("head", head);
}

}  // namespace dl::models
