// libFuzzer harness: the model configs a model file carries as JSON (nn/config_fields.cpp
// and each model's field list). Every config type reads the same text; each either
// refuses it with std::invalid_argument (which the programs turn into a one-line error
// naming the file) or accepts values that it writes and reads back unchanged.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "models/classifier.h"
#include "models/crop_classifier.h"
#include "models/deeppose.h"
#include "models/fast_rcnn.h"
#include "models/localizer.h"
#include "models/rcnn.h"
#include "models/spp_net.h"

namespace {
template <class Config>
void read_config(const std::string& text) {
  try {
    const Config c = Config::from_json(text);
    const std::string written = c.to_json();
    if (Config::from_json(written).to_json() != written) __builtin_trap();
  } catch (const std::invalid_argument&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  using namespace dl::models;
  read_config<SmallCnnConfig>(text);
  read_config<LocalizerConfig>(text);
  read_config<DeepPoseConfig>(text);
  read_config<CropClassifierConfig>(text);
  read_config<RcnnConfig>(text);
  read_config<SppNetConfig>(text);
  read_config<FastRcnnConfig>(text);
  return 0;
}
