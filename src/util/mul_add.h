// a * b + c with the rounding a build for this machine gives it. Compiled with
// -march=native for a CPU with FMA, GCC contracts a * b + c into one fused multiply-add
// (one rounding), and which of two products it fuses in a*b + c*d depends on the code
// around it -- inlining a function can move it. Code whose exact bits matter (the
// scenes every lesson trains on, the image warps compared with their reference) spells
// the fused operation out with mul_add, so the bits stay those it was written with,
// inlined or not; without an FMA unit GCC never fused, and neither does mul_add.
#pragma once
#include <cmath>

namespace dl {

inline float mul_add(float a, float b, float c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

}  // namespace dl
