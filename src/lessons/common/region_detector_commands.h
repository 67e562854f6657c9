// The eval / predict / bench subcommands of the programs that score regions with
// R-CNN's SVMs (rcnn, spp_net): the same flags, the same score threshold rule and the
// same steps around the program's detector, so they are written once here (what their
// `train` shares: region_training.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lessons/common/cli.h"
#include "lessons/common/model_file.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/stage_bench.h"
#include "models/region_svm_head.h"

namespace dl::cli {

struct RegionDetectorCommands {
  Command eval;
  Command predict;
  Command bench;
  std::vector<std::string> images;  // predict / bench IMAGE...
  int64_t limit = 0;                // eval / bench --limit
  float threshold = NAN;            // --threshold; unset: 0 to draw, -3 to evaluate
  double nms = 0.3;                 // --nms, R-CNN's per-class IoU
  bool no_regression = false;

  // The detection options the parsed flags ask for.
  models::RegionDetectOptions options() const;
};

// Adds the three subcommands to `app`, each with the common and proposal flags. The
// flags are bound to `c`, `args` and `po`: they must outlive parsing.
void add_region_detector_commands(Command& app, CommonArgs& args, ProposalOptions& po,
                                  RegionDetectorCommands& c);

// The program's detector as eval and predict run it: its model file's class names and
// detect() on that model with the commands' options.
struct RegionDetector {
  std::vector<std::string> classes;  // background excluded
  StageDetect detect;
};

// The region detector in the model file at `path` (load_detector: config, classes,
// weights), run by the program's timed(model, image, proposals, options): its detect
// with the stage times bench reports.
template <class Model, class Config>
RegionDetector open_region_detector(
    const std::string& path, const std::string& program, const models::RegionDetectOptions& o,
    StageRun (*timed)(Model&, const Image&, const std::vector<Box>&, const models::RegionDetectOptions&)) {
  RegionDetector d;
  std::shared_ptr<Model> m = load_detector<Model, Config>(path, program, &d.classes);
  d.detect = [m, o, timed](const Image& img, const std::vector<Box>& p) { return timed(*m, img, p, o); };
  return d;
}

// What main does after parsing: applies --threads, then runs `train_cmd` when `train`
// was given, eval or predict on the model file (--model, else `default_model`) opened by
// open_region_detector with `timed`, or else bench_cmd(the detection options); inside
// run_guarded, so errors end as one line and an exit code.
template <class Model, class Config>
int run_region_commands(
    const CommonArgs& args, const ProposalOptions& po, const RegionDetectorCommands& c,
    const std::string& program, const std::string& default_model,
    StageRun (*timed)(Model&, const Image&, const std::vector<Box>&, const models::RegionDetectOptions&),
    bool train, const std::function<int()>& train_cmd,
    const std::function<int(const models::RegionDetectOptions&)>& bench_cmd) {
  return run_guarded([&] {
    apply_threads(args.threads);
    if (train) return train_cmd();
    const models::RegionDetectOptions o = c.options();
    const std::string path = args.model.empty() ? default_model : args.model;
    if (c.eval) return run_region_eval(args, po, c, open_region_detector<Model, Config>(path, program, o, timed));
    if (c.predict)
      return run_region_predict(args, po, c, program, open_region_detector<Model, Config>(path, program, o, timed));
    return bench_cmd(o);
  });
}

// `eval` on the test scenes (--limit): report_region_eval's table or JSON.
int run_region_eval(const CommonArgs& a, const ProposalOptions& po,
                    const RegionDetectorCommands& c, const RegionDetector& d);
// `predict` on IMAGE...: drawn and listed as OUT/STEM.PROGRAM.png / .json (OUT: --out,
// default out/PROGRAM).
int run_region_predict(const CommonArgs& a, const ProposalOptions& po,
                       const RegionDetectorCommands& c, const std::string& program,
                       const RegionDetector& d);
// `bench` on IMAGE... or the first --limit test scenes (default 5), each of `stages`
// timed; the program prints the result (stage_bench_json or print_stage_table).
StageBench run_region_bench(const CommonArgs& a, const ProposalOptions& po,
                            const RegionDetectorCommands& c,
                            const std::vector<std::string>& stages, const StageDetect& detect);

}  // namespace dl::cli
