#include "lessons/common/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <omp.h>

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>

namespace dl::cli {

namespace {

// The one rule for number flags, checked before CLI11 converts the text: a float flag
// must be a finite number that fits its type ("nan", "inf", 1e39 for a float are usage
// errors -- range checks compare with < and >, which NaN passes), and an unsigned flag
// must not be negative (CLI11 would wrap "-1" to 2^64 - 1). Text that is no number at
// all is left to CLI11's own message.
CLI::Validator finite_number(double largest) {
  return CLI::Validator(
      [largest](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str()) return "";
        if (!std::isfinite(v) || std::fabs(v) > largest || errno == ERANGE)
          return "must be a finite number (got " + s + ")";
        return "";
      },
      "");
}

CLI::Validator not_negative_text() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const size_t i = s.find_first_not_of(" \t");
        return i != std::string::npos && s[i] == '-' ? "must not be negative (got " + s + ")" : "";
      },
      "");
}

}  // namespace

// Every check goes through here; CLI11 runs them in the order they were added.
Option& Option::add_check(const CLI::Validator& v) {
  opt_->check(v);
  return *this;
}

Option& Option::range(int lo, int hi) { return add_check(CLI::Range(lo, hi)); }
Option& Option::range(int64_t lo, int64_t hi) { return add_check(CLI::Range(lo, hi)); }
// NaN passes CLI::Range (it compares with < and >): a float range is a finite range.
Option& Option::range(float lo, float hi) {
  add_check(finite_number(FLT_MAX));
  return add_check(CLI::Range(lo, hi));
}
Option& Option::range(double lo, double hi) {
  add_check(finite_number(DBL_MAX));
  return add_check(CLI::Range(lo, hi));
}
Option& Option::one_of(const std::vector<std::string>& names) {
  return add_check(CLI::IsMember(names));
}
Option& Option::positive() { return add_check(CLI::PositiveNumber); }
Option& Option::non_negative() { return add_check(CLI::NonNegativeNumber); }
Option& Option::check(const std::function<std::string(const std::string&)>& check,
                      const std::string& what) {
  return add_check(CLI::Validator([check](std::string& s) { return check(s); }, what));
}
Option& Option::required() {
  opt_->required();
  return *this;
}
Option& Option::expected(int n) {
  opt_->expected(n);
  return *this;
}
Option& Option::expected(int min_n, int max_n) {
  opt_->expected(min_n, max_n);
  return *this;
}
Option& Option::delimiter(char c) {
  opt_->delimiter(c);
  return *this;
}
Option& Option::no_extra_args() {
  opt_->allow_extra_args(false);
  return *this;
}
Option& Option::show_default() {
  opt_->capture_default_str();
  return *this;
}
Option& Option::default_text(const std::string& text) {
  opt_->default_str(text);
  return *this;
}
Option& Option::hidden() {
  opt_->group("");  // CLI11 lists no option of the empty group
  return *this;
}

namespace {
// A help text that states the default itself ("(default 0.5)", "default: the last") says
// it better than the variable's initial value, which may be a sentinel (-1, NaN: "decided
// after parsing"): --help then shows no captured value beside it.
CLI::Option* with_default(CLI::Option* opt, const std::string& help) {
  // An empty list (IMAGE...) has no default either.
  if (help.find("default") != std::string::npos || opt->get_default_str() == "[]")
    opt->default_str("");
  return opt;
}
}  // namespace

Command Command::subcommand(const std::string& name, const std::string& help) {
  return Command(app_->add_subcommand(name, help));
}

Option Command::option(const std::string& name, std::string& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help));
}
Option Command::option(const std::string& name, int& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help));
}
Option Command::option(const std::string& name, int64_t& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help));
}
Option Command::option(const std::string& name, uint64_t& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help)->check(not_negative_text()));
}
Option Command::option(const std::string& name, float& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help)->check(finite_number(FLT_MAX)));
}
Option Command::option(const std::string& name, double& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help)->check(finite_number(DBL_MAX)));
}
Option Command::option(const std::string& name, std::vector<std::string>& value,
                       const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help));
}
Option Command::option(const std::string& name, std::vector<int>& value, const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help));
}
// A list's values are checked by its range() (finite) or by the program's own check.
Option Command::option(const std::string& name, std::vector<float>& value,
                       const std::string& help) {
  return Option(with_default(app_->add_option(name, value, help), help));
}

void Command::flag(const std::string& name, bool& value, const std::string& help) {
  app_->add_flag(name, value, help);
}

void Command::default_text(const std::string& name, const std::string& text) {
  app_->get_option(name)->default_str(text);
}

size_t Command::count(const std::string& name) const { return app_->count(name); }

Command::operator bool() const { return app_ != nullptr && app_->parsed(); }

CommandLine::CommandLine(const std::string& description)
    : owned_(std::make_unique<CLI::App>(description)) {
  app_ = owned_.get();
  // Every option's initial value is its default in --help (subcommands inherit this).
  // A text or list flag that starts empty shows none; the ones whose default the
  // program picks after parsing say so in their help or through default_text().
  owned_->option_defaults()->always_capture_default();
}

CommandLine::~CommandLine() = default;

std::string predictions_dir(const CommonArgs& a) {
  return a.out.empty() ? "out/" + program_name() : a.out;
}

void add_common_flags(Command& sub, CommonArgs& a) {
  // -1 ("unset") is no default to show: train's are shown by add_train_flags, and the
  // other subcommands that read --batch say their own in the program.
  sub.option("--data", a.data, "dataset directory (default: the program's, see its lesson)");
  sub.option("--model", a.model, "model file (safetensors; default data/models/PROGRAM.safetensors)");
  sub.option("--out", a.out, "output directory (default out/PROGRAM)");
  sub.option("--epochs", a.epochs, "training epochs").range(1, 100000).default_text("");
  sub.option("--batch", a.batch, "batch size").range(1, 1 << 20).default_text("");
  sub.option("--lr", a.lr, "learning rate").positive().default_text("");
  sub.option("--seed", a.seed, "random seed");
  sub.option("--threads", a.threads, "OpenMP threads (0 = default)").range(0, 1024);
  sub.flag("--json", a.json, "print JSON on stdout");
  sub.flag("--quiet", a.quiet, "no progress output");
}

void add_ground_truth_flag(Command& predict, CommonArgs& a) {
  predict.flag("--gt", a.gt,
               "also draw the image's ground-truth boxes (dashed black and white, \"GT class\"), "
               "when annotations.json beside it (or one folder up) lists it");
}

namespace {
// A float's shortest form: 3e-3f is "0.003", 8 is "8".
std::string default_words(float value, const std::string& text) {
  return value >= 0 ? fmt::format("{}", value) : text;
}
}  // namespace

void add_train_flags(Command& train, CommonArgs& a, const TrainDefaults& d) {
  add_common_flags(train, a);
  show_train_defaults(train, d);
  train.flag("--resume", a.resume,
             "continue an interrupted run from its last finished epoch (same flags; the "
             "model comes out byte-identical to an uninterrupted run)");
}

void show_train_defaults(Command& train, const TrainDefaults& d) {
  train.default_text("--epochs", default_words(d.epochs, d.epochs_text));
  train.default_text("--batch", default_words(d.batch, d.batch_text));
  train.default_text("--lr", default_words(d.lr, d.lr_text));
}

namespace {
std::string& program_name_storage() {
  static std::string name;
  return name;
}
}  // namespace

const std::string& program_name() { return program_name_storage(); }

void apply_train_defaults(CommonArgs& a, const TrainDefaults& d) {
  if (a.epochs < 0) a.epochs = d.epochs;
  if (a.batch < 0) a.batch = d.batch;
  if (a.lr < 0) a.lr = d.lr;
}

int parse(CommandLine& cmd, int argc, char** argv) {
  if (argc > 0) program_name_storage() = std::filesystem::path(argv[0]).filename().string();
  CLI::App& app = *cmd.owned_;
  if (!app.get_subcommands({}).empty()) app.require_subcommand(1, 1);  // train / eval / ...: exactly one
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
  } catch (const std::filesystem::filesystem_error& e) {
    // Its what() is "filesystem error: cannot create directories: Not a directory [p]";
    // say it the way every other error is said: the path, then the problem.
    std::fflush(stdout);
    fmt::print(stderr, "error: {}: {}\n", e.path1().string(), e.code().message());
    return 1;
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
