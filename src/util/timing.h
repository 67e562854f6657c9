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

}  // namespace dl
