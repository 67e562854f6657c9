#include "util/files.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

// A run killed between writing its temporary file and renaming it leaves the file
// behind; the next write of the same path removes those whose writer is gone.
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& prefix) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(dir.empty() ? "." : dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code rm;
      fs::remove(it->path(), rm);
    }
  }
}

}  // namespace

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  // Hidden, and not named like the file it becomes: a leftover of a killed run is not
  // mistaken for a model (`--model dir/*.safetensors` never matches it).
  const std::string prefix = "." + fs::path(path).filename().string() + ".tmp.";
  remove_stale_temporaries(parent, prefix);
  const std::string tmp = (parent / (prefix + std::to_string(::getpid()))).string();
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw FileError(path, std::string("cannot write: ") + std::strerror(errno));
  bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw FileError(path, "write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw FileError(path, std::string("cannot rename into place: ") + std::strerror(errno));
  }
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace dl
