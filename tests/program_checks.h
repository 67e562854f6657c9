// What the end-to-end tests of the lesson programs check alike: the tiny scenes they run
// on, made once per test process, and the bad inputs every program must refuse the same
// way -- exit 1 with one stderr line naming the file, or exit 2 for a usage error (the
// convention of src/lessons/common/cli.h). The checks are Boost.Test assertions; they
// live in program_checks.cpp, compiled once for all the tests.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "run_program.h"

namespace detlab_test {

// make_tiny_scenes(tag, ...) on the first call for `tag`; later calls return the same
// directory: the test cases of a process share one split instead of each running
// bin/datagen again.
const std::string& tiny_scenes_once(const std::string& tag, int train_count, int test_count);

// r's stdout as JSON, once r has exited 0 (otherwise the test case stops, showing
// r's stderr).
nlohmann::json json_output(const Run& r);

// r failed at run time (exit 1) with one stderr line that names `file` and, when given,
// also says `says`.
void check_exit_1_naming(const Run& r, const std::string& file, const std::string& says = "");

// Every one of `args` is a usage error of p: exit 2.
void check_usage_errors(const Program& p, const std::string& dir,
                        const std::vector<std::string>& args);

// A model file of another program: bin/classify's network and config, an empty class
// list.
void save_classify_checkpoint(const std::string& path);

// ---- the region detectors: bin/rcnn, spp_net, fast_rcnn, sliding_window -------------
// The bad inputs every region detector refuses alike, each with exit 1 and one line
// naming the file: eval with a model file that is not there, predict with a classify
// model (the line also says `not_this_model`, e.g. "not an rcnn model"), and train on a
// data directory that is not there.
void check_region_detector_bad_inputs(const Program& p, const std::string& data,
                                      const std::string& dir, const std::string& not_this_model);

// p with `predict_args` and then DIR/broken.png, a file that is not an image (written
// here, left for later checks): exit 1, one line naming it.
void check_broken_image(const Program& p, const std::string& predict_args,
                        const std::string& dir);

// DIR/r.safetensors: the least bin/rcnn or bin/spp_net can train (one step on three
// scenes, no hard-negative rounds), for the checks that need a valid model file.
std::string train_minimal_svm_detector(const Program& p, const std::string& data,
                                       const std::string& dir);

// DIR/empty: a scenes data set whose test split has no images (with `data`'s categories).
std::string make_empty_test_split(const std::string& dir, const std::string& data);

// bin/NAME train `args` --json on 1 thread into DIR/m.safetensors, then on 2 threads
// into DIR/m2.safetensors: the same model file, byte for byte (wall times go to
// m.train.json instead), and the training logs m.csv and m.train.json are there.
// Returns the first run's JSON output.
nlohmann::json train_on_1_and_2_threads(const Program& p, const std::string& args,
                                        const std::string& dir);

// voc_map50 and coco_ap of an eval --json output (or a part of one) within [0, 1].
void check_ap_in_range(const nlohmann::json& j);

// bin/NAME predict --json --threads 1 `args` (the model and options) on the first tiny
// test scene, pictures to DIR/pred: 1 to 100 detections, each box inside the 64 x 64
// image, and the annotated copy drawn 6x enlarged. Returns the scene's entry.
nlohmann::json predict_tiny_scene(const Program& p, const std::string& data,
                                  const std::string& args, const std::string& dir);

// bin/NAME bench --json --threads 1 `args` on the first two tiny test scenes: each of
// `stages` took >= 0 s per image. Returns the output.
nlohmann::json bench_tiny_scenes(const Program& p, const std::string& data,
                                 const std::string& args, const std::vector<std::string>& stages,
                                 const std::string& dir);

}  // namespace detlab_test
