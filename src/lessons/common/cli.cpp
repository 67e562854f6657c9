#include "lessons/common/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <omp.h>

#include <cstdio>
#include <exception>

namespace dl::cli {

void add_common_flags(CLI::App* sub, CommonArgs& a) {
  sub->add_option("--data", a.data, "dataset directory");
  sub->add_option("--model", a.model, "model file (safetensors)");
  sub->add_option("--out", a.out, "output directory");
  sub->add_option("--epochs", a.epochs, "training epochs")->check(CLI::Range(1, 100000));
  sub->add_option("--batch", a.batch, "batch size")->check(CLI::Range(1, 1 << 20));
  sub->add_option("--lr", a.lr, "learning rate")->check(CLI::PositiveNumber);
  sub->add_option("--seed", a.seed, "random seed");
  sub->add_option("--threads", a.threads, "OpenMP threads (0 = default)")
      ->check(CLI::Range(0, 1024));
  sub->add_flag("--json", a.json, "print JSON on stdout");
  sub->add_flag("--quiet", a.quiet, "no progress output");
}

int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return -1;
}

int run_guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}

void apply_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace dl::cli
