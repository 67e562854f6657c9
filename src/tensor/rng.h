// detlab's own random numbers. std::*_distribution output differs between standard
// libraries, so every random draw in detlab (init, shuffling, augmentation, data
// generation) goes through this generator: same seed -> same numbers everywhere.
#pragma once
#include <cstdint>

namespace dl {

// PCG32 (O'Neill 2014, "PCG: A Family of Simple Fast Space-Efficient Statistically
// Good Algorithms for Random Number Generation"), XSH-RR output on a 64-bit LCG.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0x853c49e6748fea9bULL, uint64_t stream = 0xda3e39cb94b95bdbULL);
  uint32_t next_u32();
  uint64_t next_u64();
  float uniform();                          // [0, 1), 24 random bits
  float uniform(float lo, float hi);        // [lo, hi)
  double uniform_double();                  // [0, 1), 53 random bits
  uint32_t below(uint32_t n);               // [0, n), unbiased (Lemire's rejection)
  int64_t randint(int64_t lo, int64_t hi);  // [lo, hi)
  float normal();                           // N(0, 1), Box-Muller without caching
  float normal(float mean, float stddev);
  bool bernoulli(float p) { return uniform() < p; }
  // An independent generator derived from this one's seed and a key (e.g. an image
  // index), so parallel loops can draw per item without sharing state.
  Rng fork(uint64_t key) const;

  // The whole state, to save a generator mid-run and continue it exactly (--resume).
  struct State {
    uint64_t state = 0, inc = 0, seed = 0;
  };
  State state() const { return {state_, inc_, seed_}; }
  void set_state(const State& s) { state_ = s.state, inc_ = s.inc, seed_ = s.seed; }

 private:
  uint64_t state_ = 0, inc_ = 0, seed_ = 0;
};

}  // namespace dl
