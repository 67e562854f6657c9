// `bench` of the detectors that time one image stage by stage (rcnn, spp_net,
// fast_rcnn): which model and which images it times, and, for the region detectors, the
// measurement itself -- each image's proposals computed afresh, then the program's own
// stages -- listed per image and as means, in a table or as JSON.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/model_file.h"
#include "lessons/common/proposal_options.h"
#include "tensor/rng.h"

namespace dl::cli {

// The model file bench times: --model when given (a missing one is then the usual
// error), otherwise `default_path` when it exists. "" when neither: the program then
// times a randomly initialised model -- timing does not depend on the weights -- and
// this says so on stderr, unless --quiet.
std::string bench_model_file(const CommonArgs& a, const std::string& default_path);

// bench's model: its model file (bench_model_file: --model, or the default path when
// it exists), otherwise Config{}'s architecture with random weights -- timing does not
// depend on them -- in eval mode.
template <class Model, class Config>
std::unique_ptr<Model> bench_detector(const CommonArgs& a, const std::string& default_model,
                                      const std::string& program) {
  if (const std::string path = bench_model_file(a, default_model); !path.empty())
    return load_detector<Model, Config>(path, program);
  Rng rng(a.seed);
  auto net = std::make_unique<Model>(Config{}, rng);
  net->eval();
  return net;
}

struct BenchImage {
  std::string name;  // its path, or "DIR #ID" for a test scene
  Image image;
};

// IMAGE... when given, otherwise the first `limit` test scenes (`default_limit` when
// limit is 0); throws FileError naming the test split when it has no images.
std::vector<BenchImage> bench_images(const CommonArgs& a, const std::vector<std::string>& paths,
                                     int64_t limit, int64_t default_limit);

// One image through a detector, timed stage by stage.
struct StageRun {
  std::vector<Detection> detections;
  std::vector<double> seconds;  // of each stage after the proposals, in the order named
  // Any other per-image numbers the program reports as means, summed over the images
  // like the stages (spp_net: conv seconds and windows pooled at each scale).
  std::vector<double> extra;
  int64_t proposals = 0;  // boxes the detector looked at
};

// detect(image, proposals): the program's detector with its model and options.
using StageDetect = std::function<StageRun(const Image&, const std::vector<Box>&)>;

// All of bench's numbers, summed over the images.
struct StageBench {
  std::vector<std::string> stages;  // "proposals", then the program's
  // How many of the first stages are the proposals' cost: 1 ("proposals", computed
  // outside the detector), or more for a detector making its own (Faster R-CNN's RPN).
  std::vector<bool> proposal_stage;  // per stage
  std::vector<double> seconds;      // per stage
  std::vector<double> extra;        // StageRun::extra
  nlohmann::json rows = nlohmann::json::array();  // one per image
  int64_t images = 0, proposals = 0;
  std::string preset;  // of the proposals
};

// Runs detect on every image, after one warm-up run on the first (first-touch
// allocations). The proposals bypass the cache: their own cost is part of the
// measurement. `stages` name StageRun::seconds.
StageBench time_stages(const std::vector<BenchImage>& images, ProposalOptions po,
                       const std::vector<std::string>& stages, const StageDetect& detect);

// A detector that makes its own proposals: detect(image) reports every stage in the
// order named; the stages listed in `proposal_stages` count as the proposals' time
// ("without_proposals" leaves them out). time_stages is this with Selective Search's
// proposals as the first stage.
using OwnStageDetect = std::function<StageRun(const Image&)>;
StageBench time_own_stages(const std::vector<BenchImage>& images,
                           const std::vector<std::string>& stages,
                           const std::vector<std::string>& proposal_stages,
                           const std::string& preset, const OwnStageDetect& detect);

// {"images": the rows, "proposals_per_image", "preset", "seconds_per_image": the mean of
// each stage, "without_proposals" and "total"}; a program adds its own keys.
nlohmann::json stage_bench_json(const StageBench& b);

// A row per stage -- seconds per image and share of the total -- then the totals with
// and without proposals. `labels`, when given, replace the stage names in the first
// column; after_row(stage, total seconds per image), when given, may print rows of its
// own under each stage's.
void print_stage_table(const StageBench& b, const std::vector<std::string>& labels = {},
                       const std::function<void(const std::string&, double)>& after_row = {});

// `bench`'s output: stage_bench_json on one line with --json, else the table. Returns 0.
int report_stage_bench(const StageBench& b, bool json, const std::vector<std::string>& labels = {});

}  // namespace dl::cli
