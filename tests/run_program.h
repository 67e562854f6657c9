// Shared by the program tests: run bin/NAME with arguments, capture exit status,
// stdout and stderr; make a per-process temporary directory.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/files.h"

namespace detlab_test {

struct Run {
  int status = -1;
  std::string out, err;
};

inline Run run_program(const std::string& program, const std::string& args,
                       const std::string& dir) {
  const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  const std::string cmd =
      std::string(DETLAB_BIN_DIR) + "/" + program + " " + args + " >" + out + " 2>" + err;
  const int rc = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = dl::read_file_text(out);
  r.err = dl::read_file_text(err);
  return r;
}

// bin/NAME, called like a function: `const Program rcnn{"rcnn"}; rcnn("eval ...", dir)`.
struct Program {
  std::string name;
  Run operator()(const std::string& args, const std::string& dir) const {
    return run_program(name, args, dir);
  }
};

inline std::string temp_dir(const std::string& tag) {
  std::filesystem::path p = std::filesystem::temp_directory_path() /
                            ("detlab_test_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p.string();
}

inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A tiny generated scenes data set (64x64, at most 2 objects, seed 5) with train and
// test splits in a fresh temp directory; throws with datagen's message if it fails.
inline std::string make_tiny_scenes(const std::string& tag, int train_count, int test_count) {
  const std::string dir = temp_dir(tag);
  for (const char* split : {"train", "test"}) {
    Run r = run_program(
        "datagen",
        std::string("scenes --quiet --size 64 --min-scale 20 --max-scale 40 --max-objects 2 "
                    "--count ") +
            std::to_string(split[1] == 'r' ? train_count : test_count) + " --split " + split +
            " --seed 5 --out " + dir + "/" + split,
        dir);
    if (r.status != 0) throw std::runtime_error("datagen failed: " + r.err);
  }
  return dir;
}

// One column (0-based) of a training log CSV, header skipped: the per-epoch values.
inline std::vector<double> csv_column(const std::string& path, int column) {
  std::istringstream csv(dl::read_file_text(path));
  std::string line;
  std::getline(csv, line);
  std::vector<double> v;
  while (std::getline(csv, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int i = 0; i <= column && std::getline(row, cell, ','); ++i) {}
    v.push_back(std::stod(cell));
  }
  return v;
}

}  // namespace detlab_test
