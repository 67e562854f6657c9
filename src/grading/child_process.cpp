#include "grading/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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

// Written only by the signal handler, read by run_child's polling loop: the one piece of
// process-wide state here, as a signal handler can reach no other.
volatile sig_atomic_t stop_signal = 0;

void record_stop(int sig) { stop_signal = sig; }

void redirect(const std::string& file, int fd) {
  if (file.empty()) return;
  const int f = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (f < 0) ::_exit(126);
  ::dup2(f, fd);
  ::close(f);
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_file,
                      const std::string& stderr_file, double time_limit_s, bool own_group,
                      long memory_limit_mb) {
  if (argv.empty()) throw std::runtime_error("run_child: no program");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const auto t0 = Clock::now();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (own_group) ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    if (memory_limit_mb > 0) {
      const rlim_t bytes = static_cast<rlim_t>(memory_limit_mb) << 20;
      const struct rlimit lim = {bytes, bytes};
      ::setrlimit(RLIMIT_AS, &lim);
    }
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
    if (stop_signal) {
      if (own_group) ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.stopped_by = stop_signal;
      r.seconds = elapsed();
      return r;
    }
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

void stop_on_signals() {
  struct sigaction sa = {};
  sa.sa_handler = record_stop;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

int stop_signal_received() { return stop_signal; }

void end_by_signal(int sig) {
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  ::_exit(128 + sig);  // if the signal is blocked
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (segmentation fault)";
    case SIGABRT: return "SIGABRT (abort, e.g. a failed assert)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT (Ctrl-C)";
    case SIGHUP: return "SIGHUP";
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
