// Running a program in a child process with a time limit: how the grader keeps a
// student's crash (a signal), an uncaught exception or an endless loop from taking
// the grader down with it. POSIX only (fork/exec/waitpid).
#pragma once
#include <string>
#include <vector>

namespace dl::grading {

struct ChildResult {
  bool timed_out = false;
  int stopped_by = 0;     // the signal that asked the caller to stop (the child was killed)
  int exit_code = -1;     // when the child exited normally
  int signal = 0;         // when it was killed by a signal (not by our time-out)
  double seconds = 0;     // wall-clock time
};

// Runs argv[0] (a path) with stdout and stderr sent to the given files (empty: inherit),
// its address space limited to memory_limit_mb (0: no limit) so that a runaway
// allocation fails in the child instead of swapping the machine.
// With own_group the child leads a new process group and when the time limit passes
// the whole group is killed (SIGKILL), so programs the child started die too; without
// it the child stays in the caller's group (so a grader killing the caller's group
// kills it as well) and only the child is killed. The child also dies with the caller
// (PR_SET_PDEATHSIG), even when the caller is killed with SIGKILL. When the caller has
// installed stop_on_signals and one of them arrives, the child's group is killed at once
// and stopped_by names the signal. Throws std::runtime_error when the program cannot be
// started.
ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_file,
                      const std::string& stderr_file, double time_limit_s, bool own_group = true,
                      long memory_limit_mb = 0);

// SIGTERM, SIGINT and SIGHUP no longer end this process at once: they are recorded, and
// run_child, which polls for them, stops its child and returns, so the caller can remove
// its temporary files and then end with stop_signal_received()'s signal
// (end_by_signal). The grader uses this: its cases run in their own process groups,
// which a signal to the grader's group does not reach.
void stop_on_signals();
int stop_signal_received();  // 0 when none arrived
// Ends this process as the signal would have (default action), e.g. exit status 143.
[[noreturn]] void end_by_signal(int sig);

// "SIGSEGV (segmentation fault)" etc.
std::string signal_name(int sig);

// The running executable's path (/proc/self/exe) and its directory.
std::string self_executable();

// A fresh private directory under the system temp directory (removed by the caller).
std::string make_temp_dir(const std::string& tag);

}  // namespace dl::grading
