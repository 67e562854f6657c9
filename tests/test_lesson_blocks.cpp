// bin/lesson_blocks, which `make lessons` uses to rewrite a lesson's generated regions
// from its commands' JSON (tools/lessons.sh): on a tiny lesson with two regions, the
// regions get their filled templates and every byte outside them stays; a missing
// field, file, template or closing marker is one error line naming the file, exit 1.
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <string>

#include "program_checks.h"
#include "util/files.h"

using namespace detlab_test;

namespace {

const Program lesson_blocks{"lesson_blocks"};

// Outside the regions: a stale number (must stay), an unrelated comment and {{braces}}.
const std::string kLesson =
    "# Lesson 99\n"
    "\n"
    "Prose with 12.5 % and {{not/a:field}} that no one may touch.\n"
    "<!-- lessons: 99/table -->\n"
    "| old | table |\n"
    "<!-- /lessons -->\n"
    "<!-- a comment -->\n"
    "Between the blocks.\n"
    "<!-- lessons: 99/line -->\n"
    "<!-- /lessons -->\n"
    "Last line, no newline";

const std::string kTemplates =
    "Text outside the templates is a comment.\n"
    "<!-- template: 99/table -->\n"
    "| accuracy | images | loss | name |\n"
    "| {{eval.json:/accuracy|x100.2}} % | {{eval.json:/images|,}} | {{eval.json:/loss|.3}} | "
    "{{eval.json:/per_class/T-shirt~1top/name}} |\n"
    "<!-- /template -->\n"
    "<!-- template: 99/line -->\n"
    "Epoch 2: {{train.csv:/1/test_acc|x100.1}} %, raw {{eval.json:/images}} on "
    "{{run.json:/date}}.\n"
    "<!-- /template -->\n";

const std::string kExpected =
    "# Lesson 99\n"
    "\n"
    "Prose with 12.5 % and {{not/a:field}} that no one may touch.\n"
    "<!-- lessons: 99/table -->\n"
    "| accuracy | images | loss | name |\n"
    "| 87.44 % | 60,000 | 0.355 | tops |\n"
    "<!-- /lessons -->\n"
    "<!-- a comment -->\n"
    "Between the blocks.\n"
    "<!-- lessons: 99/line -->\n"
    "Epoch 2: 81.3 %, raw 60000 on 2026-12-03.\n"
    "<!-- /lessons -->\n"
    "Last line, no newline";

// DIR with lesson.md, templates.md and the JSON/CSV the templates read.
std::string fixture(const std::string& tag) {
  const std::string dir = temp_dir("lesson_blocks_" + tag);
  dl::write_file_atomic(dir + "/lesson.md", kLesson);
  dl::write_file_atomic(dir + "/templates.md", kTemplates);
  dl::write_file_atomic(dir + "/eval.json",
                        R"({"accuracy": 0.8744, "images": 60000, "loss": 0.35463,)"
                        R"( "per_class": {"T-shirt/top": {"name": "tops"}}})");
  dl::write_file_atomic(dir + "/train.csv", "epoch,test_acc\n1,0.70\n2,0.8131\n");
  dl::write_file_atomic(dir + "/run.json", R"({"date": "2026-12-03"})");
  return dir;
}

std::string args(const std::string& dir, const std::string& extra = "") {
  return dir + "/lesson.md --templates " + dir + "/templates.md --json-dir " + dir + " " + extra;
}

}  // namespace

BOOST_AUTO_TEST_CASE(fills_the_regions_and_leaves_the_rest) {
  const std::string dir = fixture("fill");
  const Run r = lesson_blocks(args(dir), dir);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  BOOST_TEST(dl::read_file_text(dir + "/lesson.md") == kExpected);
  // Run again on its own output: the regions are rewritten, not appended to.
  BOOST_REQUIRE_EQUAL(lesson_blocks(args(dir), dir).status, 0);
  BOOST_TEST(dl::read_file_text(dir + "/lesson.md") == kExpected);
}

BOOST_AUTO_TEST_CASE(out_writes_elsewhere) {
  const std::string dir = fixture("out");
  const Run r = lesson_blocks(args(dir, "--out " + dir + "/filled.md"), dir);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  BOOST_TEST(dl::read_file_text(dir + "/filled.md") == kExpected);
  BOOST_TEST(dl::read_file_text(dir + "/lesson.md") == kLesson);
}

BOOST_AUTO_TEST_CASE(a_missing_field_names_the_file_and_the_field) {
  const std::string dir = fixture("field");
  dl::write_file_atomic(dir + "/eval.json", R"({"accuracy": 0.8744, "loss": 0.3})");
  const Run r = lesson_blocks(args(dir), dir);
  check_exit_1_naming(r, dir + "/eval.json", "/images");
  BOOST_TEST(dl::read_file_text(dir + "/lesson.md") == kLesson);  // nothing half written
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_one_line_naming_the_file) {
  const std::string dir = fixture("bad");
  std::remove((dir + "/run.json").c_str());
  check_exit_1_naming(lesson_blocks(args(dir), dir), dir + "/run.json");

  dl::write_file_atomic(dir + "/run.json", "{not json");
  check_exit_1_naming(lesson_blocks(args(dir), dir), dir + "/run.json", "not valid JSON");

  dl::write_file_atomic(dir + "/run.json", R"({"date": "2026-12-03"})");
  dl::write_file_atomic(dir + "/eval.json", R"({"accuracy": "high", "images": 1, "loss": 1,)"
                                            R"( "per_class": {"T-shirt/top": {"name": "t"}}})");
  check_exit_1_naming(lesson_blocks(args(dir), dir), dir + "/eval.json", "not a number");
  fixture("bad");  // the same files again, eval.json good

  // A region with no template, a template with no region, a region never closed.
  dl::write_file_atomic(dir + "/other.md", "<!-- lessons: 99/nope -->\n<!-- /lessons -->\n");
  check_exit_1_naming(lesson_blocks(dir + "/other.md --templates " + dir +
                                        "/templates.md --json-dir " + dir, dir),
                      dir + "/other.md", "99/nope");
  dl::write_file_atomic(dir + "/other.md", "<!-- lessons: 99/table -->\n<!-- /lessons -->\n");
  check_exit_1_naming(lesson_blocks(dir + "/other.md --templates " + dir +
                                        "/templates.md --json-dir " + dir, dir),
                      dir + "/templates.md", "99/line");
  dl::write_file_atomic(dir + "/other.md", "<!-- lessons: 99/table -->\nno end\n");
  check_exit_1_naming(lesson_blocks(dir + "/other.md --templates " + dir +
                                        "/templates.md --json-dir " + dir, dir),
                      dir + "/other.md", "never closed");

  check_usage_errors(lesson_blocks, dir, {"", dir + "/lesson.md", "--templates x --json-dir y"});
}
