// Running a program in a child process with a time limit: how the grader keeps a
// student's crash (a signal), an uncaught exception or an endless loop from taking
// the grader down with it. POSIX only (fork/exec/waitpid).
#pragma once
#include <string>
#include <vector>

namespace dl::grading {

struct ChildResult {
  bool timed_out = false;
  int exit_code = -1;     // when the child exited normally
  int signal = 0;         // when it was killed by a signal (not by our time-out)
  double seconds = 0;     // wall-clock time
};

// Runs argv[0] (a path) with stdout and stderr sent to the given files (empty: inherit).
// With own_group the child leads a new process group and when the time limit passes
// the whole group is killed (SIGKILL), so programs the child started die too; without
// it the child stays in the caller's group (so a grader killing the caller's group
// kills it as well) and only the child is killed. Throws std::runtime_error when the
// program cannot be started.
ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_file,
                      const std::string& stderr_file, double time_limit_s, bool own_group = true);

// "SIGSEGV (segmentation fault)" etc.
std::string signal_name(int sig);

// The running executable's path (/proc/self/exe) and its directory.
std::string self_executable();

// A fresh private directory under the system temp directory (removed by the caller).
std::string make_temp_dir(const std::string& tag);

}  // namespace dl::grading
