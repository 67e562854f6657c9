// The command line every detlab program shares: subcommands train / eval / predict /
// bench, the same common flags on each, and one error convention:
//   exit 0 ok, 1 runtime error ("error: <file>: <problem>" on one stderr line),
//   2 usage error (CLI11 prints what was wrong).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

// Only the CLI11 type names: the header itself costs ~8 s of compile time per file at
// -O3, so only the files that build a command line (the programs' main files and the
// .cpp files that add flags) include <CLI/CLI.hpp>.
namespace CLI {
class App;
}

namespace dl::cli {

struct CommonArgs {
  std::string data;        // dataset directory
  std::string model;       // model file to read (eval/predict) or write (train)
  std::string out;         // output directory for logs, plots, annotated images
  int epochs = -1;         // -1: the program's default
  int batch = -1;
  float lr = -1.0f;
  uint64_t seed = 1;
  int threads = 0;         // 0: OpenMP's default
  bool json = false;       // machine-readable output on stdout
  bool quiet = false;      // no progress bar or log lines
};

// Adds --data --model --out --epochs --batch --lr --seed --threads --json --quiet.
void add_common_flags(CLI::App* sub, CommonArgs& a);

// Parses argv; returns -1 to continue, or the exit status (0 for --help, 2 for a usage error).
int parse(CLI::App& app, int argc, char** argv);

// Runs body, turning exceptions into "error: <what>" and exit status 1.
int run_guarded(const std::function<int()>& body);

// Applies --threads (omp_set_num_threads) when > 0.
void apply_threads(int threads);

}  // namespace dl::cli
