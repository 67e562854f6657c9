// util/files: an atomic write leaves nothing but its file, takes over the temporary a
// killed run left behind, and never touches one a live writer holds.
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "run_program.h"
#include "util/files.h"

namespace fs = std::filesystem;

namespace {

int entries(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.exists();
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(atomic_write_takes_over_a_killed_runs_temporary) {
  const std::string dir = detlab_test::temp_dir("files");
  const std::string tmp = dir + "/.m.safetensors.tmp";
  // What a run killed mid-write leaves: a partial temporary, its lock gone with it.
  dl::write_file_atomic(tmp, "partial");
  dl::write_file_atomic(dir + "/m.safetensors", "complete");
  BOOST_TEST(dl::read_file_text(dir + "/m.safetensors") == "complete");
  BOOST_TEST(!fs::exists(tmp), "the killed run's temporary was left");
  BOOST_TEST(entries(dir) == 1);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(atomic_write_leaves_a_live_writers_temporary_alone) {
  const std::string dir = detlab_test::temp_dir("files_live");
  const std::string tmp = dir + "/.m.safetensors.tmp";
  dl::write_file_atomic(tmp, "being written");
  // Another process holds the temporary's lock, as a writer does while writing.
  int ready[2];
  BOOST_REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    const int fd = ::open(tmp.c_str(), O_WRONLY);
    ::flock(fd, LOCK_EX);
    ::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
  dl::write_file_atomic(dir + "/m.safetensors", "complete");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  BOOST_TEST(dl::read_file_text(dir + "/m.safetensors") == "complete");
  BOOST_TEST(dl::read_file_text(tmp) == "being written", "a live writer's temporary was touched");
  BOOST_TEST(entries(dir) == 2);  // the file and the other writer's temporary, nothing else
  fs::remove_all(dir);
}
