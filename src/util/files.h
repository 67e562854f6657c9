// File helpers shared by every program: one error type whose message names the
// file and the problem, and writes that go to a temporary name and are renamed into
// place, so an interrupted run never leaves a half-written output.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dl {

// "path: problem". Programs print what() on one line and exit 1.
struct FileError : std::runtime_error {
  FileError(const std::string& path, const std::string& problem)
      : std::runtime_error(path + ": " + problem) {}
};

// Reads a whole file; throws FileError when missing, unreadable or over max_bytes.
std::vector<uint8_t> read_file_bytes(const std::string& path, uint64_t max_bytes = 1ull << 32);
std::string read_file_text(const std::string& path, uint64_t max_bytes = 1ull << 30);

// Writes the hidden temporary DIR/.NAME.tmp (taking over one a killed run left
// behind), then renames it onto `path` = DIR/NAME (atomic on POSIX filesystems).
// Creates missing parent directories.
void write_file_atomic(const std::string& path, const void* data, size_t size);
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace dl
