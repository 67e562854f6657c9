// One writer per output. A training run holds DIR/.NAME.lock from its start to its
// last write, so two runs given the same --model cannot interleave their files (the
// model of one with the curves of the other); the second stops at once and says which
// process holds the lock. The lock is flock(2): the kernel drops it when its process
// ends, even by kill -9, so a crashed run never blocks the next one. Taking it also
// proves, before any training, that the folder can be written.
#pragma once
#include <string>

namespace dl {

class OutputLock {
 public:
  // Throws FileError(path, ...) when another live process holds the lock or the
  // folder cannot be written (created when missing, as the writes would).
  explicit OutputLock(const std::string& path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace dl
