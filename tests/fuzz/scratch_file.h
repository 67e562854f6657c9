// For harnesses whose reader takes a path, not bytes: each input is written to one scratch
// file in memory (tmpfs under /dev/shm), made once per process in its own folder. On disk,
// every rewrite waits for a flush (~300 executions/s instead of thousands).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace fuzz {

// `stem`: the folder's name prefix; `file`: the scratch file's name inside it. The folder
// is removed when the process exits normally (a crash leaves it, beside the crash input).
inline const std::string& scratch_path(const char* stem, const char* file) {
  static const std::string dir = [&] {
    std::string d = std::string("/dev/shm/") + stem + "_XXXXXX";
    if (!mkdtemp(d.data())) __builtin_trap();
    return d;
  }();
  // Registered after `dir` is made, so that it runs before `dir` is destroyed.
  static const int removed_at_exit = std::atexit([] { std::filesystem::remove_all(dir); });
  static const std::string path = dir + "/" + file;
  (void)removed_at_exit;
  return path;
}

inline void write_scratch(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
}

}  // namespace fuzz
