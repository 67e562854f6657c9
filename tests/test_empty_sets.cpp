// An empty test set is an error naming its directory, not a table of "-100.0%" or a
// crash: the detection evaluators (rcnn, spp_net, fast_rcnn, sliding_window) and the
// localizer's evaluation (classify_localize). deeppose's eval applies the same rule.
#include <boost/test/unit_test.hpp>

#include <string>

#include "data/detection_dataset.h"
#include "eval/detection_eval.h"
#include "models/localizer.h"
#include "util/files.h"

using namespace dl;

namespace {

bool names_dir(const FileError& e) {
  const std::string m = e.what();
  return m.find("/nowhere/test") != std::string::npos && m.find("no images") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(evaluating_on_no_images_is_a_file_error) {
  DetectionDataset empty;
  empty.dir = "/nowhere/test";
  empty.class_names = {"a", "b"};
  empty.category_ids = {1, 2};
  bool called = false;
  BOOST_CHECK_EXCEPTION(evaluate_detector(empty, [&](const DetectionItem&) {
                          called = true;
                          return ImageResult{};
                        }),
                        FileError, names_dir);
  ProposalOptions po;
  BOOST_CHECK_EXCEPTION(evaluate_with_proposals(empty, po,
                                                [&](const DetectionItem&, const std::vector<Box>&) {
                                                  called = true;
                                                  return ImageResult{};
                                                }),
                        FileError, names_dir);
  BOOST_TEST(!called);
  Rng rng(1);
  models::Localizer model(models::LocalizerConfig{}, rng);
  BOOST_CHECK_EXCEPTION(models::evaluate(model, empty, 8), FileError, names_dir);
}
