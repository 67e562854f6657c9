// util/files: atomic writes leave no temporary behind, and clear those of killed runs.
#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "run_program.h"
#include "util/files.h"

namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(atomic_write_removes_temporaries_of_dead_writers_only) {
  const std::string dir = detlab_test::temp_dir("files");
  // A pid that surely belongs to no process: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = dir + "/.m.safetensors.tmp." + std::to_string(dead);
  const std::string live = dir + "/.m.safetensors.tmp." + std::to_string(::getppid());
  const std::string other = dir + "/.n.safetensors.tmp." + std::to_string(dead);
  for (const std::string& p : {stale, live, other}) dl::write_file_atomic(p, "partial");

  dl::write_file_atomic(dir + "/m.safetensors", "complete");
  BOOST_TEST(dl::read_file_text(dir + "/m.safetensors") == "complete");
  BOOST_TEST(!fs::exists(stale), "a dead writer's temporary was left");
  BOOST_TEST(fs::exists(live), "a running writer's temporary was removed");
  BOOST_TEST(fs::exists(other), "another file's temporary was touched");
  // Nothing of this write is left but the file itself.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.exists();
  BOOST_TEST(entries == 3);  // m.safetensors, live, other
  fs::remove_all(dir);
}
