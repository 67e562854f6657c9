// The one rule for number flags (lessons/common/cli.cpp): a float flag takes a finite
// number that fits its type, an unsigned flag no negative number; anything else is a
// usage error (exit 2) naming the problem, before any file is read. Range checks alone
// let NaN through (they compare with < and >), and CLI11 wraps "-1" to 2^64 - 1.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "run_program.h"

using namespace detlab_test;

namespace {

struct BadFlag {
  std::string program, args, expected_words;
};

}  // namespace

BOOST_AUTO_TEST_CASE(non_finite_and_negative_numbers_are_usage_errors) {
  const std::string dir = temp_dir("number_flags");
  const std::vector<BadFlag> cases = {
      {"classify_localize", "train --lr nan", "finite"},
      {"classify", "train --lr inf", "finite"},
      {"classify", "train --lr -inf", "finite"},
      {"classify", "train --lr 1e39", "finite"},  // beyond float's range
      {"fast_rcnn", "eval --nms nan", "finite"},
      {"rcnn", "train --svm-c nan", "finite"},
      {"spp_net", "train --target-size nan", "finite"},
      {"compare", "--time-limit nan", "finite"},
      {"grade", "--time-scale nan", "finite"},
      {"grade", "--memory-limit -5", "-5"},
      {"classify", "train --seed -1", "negative"},
      {"deeppose", "eval --seed -3", "negative"},
  };
  for (const BadFlag& c : cases) {
    BOOST_TEST_CONTEXT(c.program << " " << c.args) {
      const Run r = run_program(c.program, c.args, dir);
      BOOST_TEST(r.status == 2);
      BOOST_TEST(r.err.find(c.expected_words) != std::string::npos, r.err);
    }
  }
  // The rule leaves good numbers alone: a finite float in range parses (and the run then
  // fails only for the missing data directory, exit 1, not 2).
  const Run ok = run_program("classify", "eval --lr 1e-3 --seed 0 --data " + dir + "/none", dir);
  BOOST_TEST(ok.status == 1, ok.err);
}
