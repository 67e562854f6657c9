#include "grading/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "util/timing.h"

namespace dl::grading {

namespace {

void redirect(const std::string& file, int fd) {
  if (file.empty()) return;
  const int f = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (f < 0) ::_exit(126);
  ::dup2(f, fd);
  ::close(f);
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_file,
                      const std::string& stderr_file, double time_limit_s, bool own_group) {
  if (argv.empty()) throw std::runtime_error("run_child: no program");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (own_group) ::setpgid(0, 0);
    redirect(stdout_file, 1);
    redirect(stderr_file, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (own_group) ::setpgid(pid, pid);  // also here, so a kill cannot race the child's setpgid

  ChildResult r;
  int status = 0;
  auto elapsed = [&] {
    return seconds_since(t0);
  };
  // Poll: a short sleep that grows to 20 ms keeps quick cases quick without spinning.
  int nap_us = 200;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (elapsed() > time_limit_s) {
      if (own_group) ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(nap_us));
    nap_us = std::min(nap_us * 2, 20000);
  }
  r.seconds = elapsed();
  if (!r.timed_out) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    // Grandchildren left behind (an end-to-end program) go with their group.
    if (own_group) ::kill(-pid, SIGKILL);
  }
  if (!r.timed_out && r.exit_code == 127 && r.signal == 0 && r.seconds < 1 &&
      ::access(argv[0].c_str(), X_OK) != 0)
    throw std::runtime_error(argv[0] + ": cannot execute (missing? build it first)");
  return r;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (segmentation fault)";
    case SIGABRT: return "SIGABRT (abort, e.g. a failed assert)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGKILL: return "SIGKILL";
    default: return "signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
}

std::string self_executable() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

std::string make_temp_dir(const std::string& tag) {
  std::string templ =
      (std::filesystem::temp_directory_path() / ("detlab_" + tag + "_XXXXXX")).string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot create a temporary directory");
  return templ;
}

}  // namespace dl::grading
