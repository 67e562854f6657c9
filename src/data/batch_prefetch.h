// Building the next training batch while the current one trains. A training step of the
// lessons' small networks leaves a core idle part of the time (the serial parts of the
// autograd graph, the optimizer's bookkeeping); making a batch -- generating scenes,
// resizing, flipping -- can use that time instead of waiting its own turn.
//
// Determinism: a batch is a pure function of its index (the caller's `build`), so
// whether it was built ahead or on the spot, by one thread or several, gives the same
// values. The helper thread runs its OpenMP loops with one thread (its own setting; the
// training's team is unchanged), so it adds at most one busy thread.
//
// Lifetime: `build` must stay valid, and what it reads unchanged, until the batch asked
// for ahead has been taken (or the prefetcher destroyed, which waits for it).
#pragma once
#include <omp.h>

#include <cstdint>
#include <functional>
#include <future>
#include <utility>

namespace dl {

template <class Batch>
class BatchPrefetch {
 public:
  explicit BatchPrefetch(std::function<Batch(int64_t)> build) : build_(std::move(build)) {}
  BatchPrefetch(const BatchPrefetch&) = delete;
  BatchPrefetch& operator=(const BatchPrefetch&) = delete;
  ~BatchPrefetch() {
    if (next_.valid()) next_.wait();
  }

  // Batch `index` (the one built ahead if it is that one, else built now); then, when
  // `ahead` >= 0 and a core is free, starts building batch `ahead` on a helper thread.
  // Only with a free core: when the training's threads already take every core, the
  // helper competes with them, and a classify_localize epoch took 1.2x as long (2 threads
  // on 2 cores, 3,000 scenes: 1.72 s against 1.40 s; with 1 thread, 1.82 against 2.25).
  Batch take(int64_t index, int64_t ahead = -1) {
    Batch b;
    if (next_.valid() && next_index_ == index) {
      b = next_.get();
    } else {
      if (next_.valid()) next_.wait();  // built for nothing; its inputs may change now
      next_ = {};
      b = build_(index);
    }
    if (ahead >= 0 && omp_get_max_threads() < omp_get_num_procs()) {
      next_index_ = ahead;
      next_ = std::async(std::launch::async, [this, ahead] {
        omp_set_num_threads(1);
        return build_(ahead);
      });
    }
    return b;
  }

 private:
  std::function<Batch(int64_t)> build_;
  std::future<Batch> next_;
  int64_t next_index_ = -1;
};

}  // namespace dl
