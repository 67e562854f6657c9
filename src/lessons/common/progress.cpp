#include "lessons/common/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace dl::cli {

Progress::Progress(int epochs, int64_t steps_per_epoch, bool quiet)
    : epochs_(epochs), steps_(steps_per_epoch), quiet_(quiet), tty_(isatty(2) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::update(int epoch, int64_t step, double loss, int64_t images) {
  images_ = images;
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int64_t done = static_cast<int64_t>(epoch) * steps_ + step + 1;
  const int64_t total = static_cast<int64_t>(epochs_) * steps_;
  const double eta = done > 0 ? elapsed / done * (total - done) : 0.0;
  const double ips = elapsed > 0 ? images / elapsed : 0.0;
  const bool last = step + 1 == steps_;
  if (tty_) {
    if (!last && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    const int width = 24;
    const int fill = static_cast<int>(width * (step + 1) / std::max<int64_t>(1, steps_));
    fmt::print(stderr, "\repoch {}/{} [{}{}] {}/{} loss {:.4f} {:.0f} img/s ETA {:.0f}s  ",
               epoch + 1, epochs_, std::string(fill, '#'), std::string(width - fill, '.'),
               step + 1, steps_, loss, ips, eta);
    if (last) fmt::print(stderr, "\n");
  } else if (last || (step + 1) % std::max<int64_t>(1, steps_ / 4) == 0) {
    fmt::print(stderr, "epoch {}/{} step {}/{} loss {:.4f} {:.0f} img/s ETA {:.0f}s\n", epoch + 1,
               epochs_, step + 1, steps_, loss, ips, eta);
  }
  std::fflush(stderr);
}

TaskProgress::TaskProgress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)), total_(total), quiet_(quiet), tty_(isatty(2) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void TaskProgress::step() {
  if (quiet_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  const auto now = std::chrono::steady_clock::now();
  const bool last = done_ == total_;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done_ > 0 ? elapsed / done_ * (total_ - done_) : 0.0;
  if (tty_) {
    if (!last && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    fmt::print(stderr, "\r{}: {}/{} ({:.0f} s, ETA {:.0f} s)  {}", label_, done_, total_, elapsed,
               eta, last ? "\n" : "");
  } else if (last || done_ % std::max<int64_t>(1, total_ / 4) == 0) {
    fmt::print(stderr, "{}: {}/{} ({:.0f} s, ETA {:.0f} s)\n", label_, done_, total_, elapsed, eta);
  }
  std::fflush(stderr);
}

void Progress::message(const std::string& line) {
  if (quiet_) return;
  fmt::print(stderr, "{}\n", line);
}

}  // namespace dl::cli
