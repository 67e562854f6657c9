#include "util/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace dl {

std::vector<uint8_t> read_file_bytes(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) throw FileError(path, "is a directory, not a file");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw FileError(path, std::string("cannot open: ") + std::strerror(errno));
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  if (size < 0) {
    std::fclose(f);
    throw FileError(path, "cannot determine size");
  }
  if (static_cast<uint64_t>(size) > max_bytes) {
    std::fclose(f);
    throw FileError(path, "file too large (" + std::to_string(size) + " bytes, limit " +
                              std::to_string(max_bytes) + ")");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got != bytes.size()) throw FileError(path, "read error");
  return bytes;
}

std::string read_file_text(const std::string& path, uint64_t max_bytes) {
  auto b = read_file_bytes(path, max_bytes);
  return std::string(b.begin(), b.end());
}

namespace {

// Opens `tmp` for writing and takes its lock; false (nothing held) when another writer
// holds it, or renamed it away between our open and our lock.
bool open_locked(const std::string& tmp, int& fd) {
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  struct stat opened {}, named {};
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &opened) == 0 &&
      ::stat(tmp.c_str(), &named) == 0 && opened.st_ino == named.st_ino &&
      opened.st_dev == named.st_dev && ::ftruncate(fd, 0) == 0)
    return true;
  ::close(fd);
  fd = -1;
  return false;
}

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// The temporary is DIR/.NAME.tmp, locked (flock) while it is written and renamed. A run
// killed mid-write leaves it behind, and the kernel drops its lock: the next write of the
// same path takes it over, so leftovers never pile up -- without listing the directory
// (a proposal cache holds one file per image). Only while another live writer (a thread
// or a process) holds it does a write use a private name, DIR/.NAME.tmp.PID.TID.
void write_file_atomic(const std::string& path, const void* data, size_t size) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  // Hidden, and not named like the file it becomes: a leftover of a killed run is not
  // mistaken for a model (`--model dir/*.safetensors` never matches it).
  std::string tmp = (parent / ("." + fs::path(path).filename().string() + ".tmp")).string();
  int fd = -1;
  if (!open_locked(tmp, fd)) {
    tmp += "." + std::to_string(::getpid()) + "." + std::to_string(::gettid());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) throw FileError(path, std::string("cannot write: ") + std::strerror(errno));
  const bool ok = write_all(fd, data, size);
  if (!ok) {
    ::unlink(tmp.c_str());
    ::close(fd);
    throw FileError(path, "write failed (disk full?)");
  }
  // Renamed while still locked: no other writer can take the file over in between.
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    ::close(fd);
    throw FileError(path, std::string("cannot rename into place: ") + std::strerror(err));
  }
  ::close(fd);
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace dl
