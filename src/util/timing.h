// Wall-clock seconds for the timings the programs report. steady_clock, because the
// system clock may be set back or forward in the middle of a measurement.
#pragma once
#include <chrono>

namespace dl {

using Clock = std::chrono::steady_clock;

// Seconds from t0 until now.
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Adds the seconds of its own lifetime to a stage's total (nothing for a null total): a
// detector times its stages with a block around each, { ScopedTimer t(times.nms); ... },
// instead of clock calls woven through the algorithm.
class ScopedTimer {
 public:
  explicit ScopedTimer(double* total) : total_(total), t0_(Clock::now()) {}
  explicit ScopedTimer(double& total) : ScopedTimer(&total) {}
  ~ScopedTimer() {
    if (total_) *total_ += seconds_since(t0_);
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  double* total_;
  Clock::time_point t0_;
};

}  // namespace dl
