#include "util/output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/files.h"

namespace dl {

OutputLock::OutputLock(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) throw FileError(path, "is a folder, not a file to write");
  if (!p.parent_path().empty()) fs::create_directories(p.parent_path(), ec);
  const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  if (::access(dir.c_str(), W_OK) != 0)
    throw FileError(path, std::string("cannot write in its folder: ") + std::strerror(errno));
  const std::string lock = (p.parent_path() / ("." + p.filename().string() + ".lock")).string();
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw FileError(path, std::string("cannot write here: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    std::string who = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    throw FileError(path, "another run" + (who.empty() ? "" : " (pid " + who + ")") +
                              " is writing this file; wait for it to finish or choose another path");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw FileError(path, std::string("cannot write here: ") + std::strerror(err));
  }
}

OutputLock::~OutputLock() {
  // The file stays (removing it would race with a run that has just opened it); the
  // lock goes with the descriptor.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dl
