// The command line every detlab program shares: subcommands train / eval / predict /
// bench, the same common flags on each, and one error convention:
//   exit 0 ok, 1 runtime error ("error: <file>: <problem>" on one stderr line),
//   2 usage error (CLI11 prints what was wrong).
//
// A thin facade over CLI11: merely including <CLI/CLI.hpp> costs ~8 s of compile time
// per file at -O3 (~13 s for a program with a few options), so only cli.cpp includes
// it. The programs declare their flags through Command and Option below, one line per
// flag, e.g.
//   train.option("--lambda", topt.lambda, "weight of the box (L2) loss").range(0.0f, 1e6f);
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
class Validator;
}  // namespace CLI

namespace dl::cli {

// One option or positional argument, as just declared: its checks are added by
// chaining, e.g. .range(1, 1024).required().
class Option {
 public:
  explicit Option(CLI::Option* opt) : opt_(opt) {}

  // Accepted values lo..hi. The overloads keep the literal's type on purpose: an int
  // range rejects "2.5", a float range accepts it, as CLI::Range<T> does.
  Option& range(int lo, int hi);
  Option& range(int64_t lo, int64_t hi);
  Option& range(float lo, float hi);
  Option& range(double lo, double hi);
  Option& one_of(const std::vector<std::string>& names);
  Option& positive();       // > 0
  Option& non_negative();   // >= 0
  // A check the library does itself: `check` returns "" when the value is fine, else
  // the problem; `what` names the value in --help (e.g. "STRATEGY").
  Option& check(const std::function<std::string(const std::string&)>& check,
                const std::string& what);
  Option& required();
  Option& expected(int n);                // exactly n values
  Option& expected(int min_n, int max_n); // between min_n and max_n values
  Option& delimiter(char c);              // "--scales 16,24" as two values
  // Takes the values of its own argument only: with delimiter(','), words after it
  // are positional arguments, not more values.
  Option& no_extra_args();
  Option& show_default();                 // --help prints the default value
  Option& default_text(const std::string& text);  // --help prints this as the default
  Option& hidden();                       // not listed by --help (internal flags)

 private:
  Option& add_check(const CLI::Validator& v);
  CLI::Option* opt_;
};

// One command or subcommand. A handle: copies refer to the same command; the
// CommandLine that made it owns it.
class Command {
 public:
  Command() = default;  // no command (never given)

  Command subcommand(const std::string& name, const std::string& help);

  // One overload per value type the programs read; a vector takes several values.
  Option option(const std::string& name, std::string& value, const std::string& help);
  Option option(const std::string& name, int& value, const std::string& help);
  Option option(const std::string& name, int64_t& value, const std::string& help);
  Option option(const std::string& name, uint64_t& value, const std::string& help);
  Option option(const std::string& name, float& value, const std::string& help);
  Option option(const std::string& name, double& value, const std::string& help);
  Option option(const std::string& name, std::vector<std::string>& value, const std::string& help);
  Option option(const std::string& name, std::vector<int>& value, const std::string& help);
  Option option(const std::string& name, std::vector<float>& value, const std::string& help);

  // A switch: true when given. "!--no-flip" sets value to false when given.
  void flag(const std::string& name, bool& value, const std::string& help);

  // --help shows `text` as the default of the option `name`, declared before.
  void default_text(const std::string& name, const std::string& text);

  // How often the option `name` was given (0: its default stands).
  size_t count(const std::string& name) const;

  // Was this subcommand given on the command line.
  explicit operator bool() const;

 protected:
  explicit Command(CLI::App* app) : app_(app) {}
  CLI::App* app_ = nullptr;
};

// The program's whole command line: the top-level command, owning every subcommand.
class CommandLine : public Command {
 public:
  explicit CommandLine(const std::string& description);
  ~CommandLine();  // (not copyable: it owns the parser)

 private:
  friend int parse(CommandLine& app, int argc, char** argv);
  std::unique_ptr<CLI::App> owned_;
};

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
  bool resume = false;     // train: continue from the resume point (lessons/common/resume.h)
  std::string report;      // eval / predict: an HTML page of the results (lessons/common/report.h)
  bool gt = false;         // a detector's predict: also draw the image's ground truth
};

// Where predict writes its annotated images and JSON: --out, else out/PROGRAM (the
// running program's name, program_name()).
std::string predictions_dir(const CommonArgs& a);

// Adds --data --model --out --epochs --batch --lr --seed --threads --json --quiet.
void add_common_flags(Command& sub, CommonArgs& a);

// --gt, for a detector's `predict` (lessons/common/ground_truth.h).
void add_ground_truth_flag(Command& predict, CommonArgs& a);

// What `train` uses when --epochs, --batch or --lr is not given: one place for both
// --help and cmd_train (apply_train_defaults). A value the program works out itself
// (an optimizer's own rate) is left at -1 and described by the matching *_text.
struct TrainDefaults {
  int epochs = -1;
  int batch = -1;
  float lr = -1.0f;
  std::string epochs_text, batch_text, lr_text;  // --help's words for a -1 above
  // A constructor rather than aggregate initialisation: the programs give the numbers and
  // only some of the words (-Wextra warns about every member an aggregate leaves out).
  TrainDefaults(int epochs_ = -1, int batch_ = -1, float lr_ = -1.0f, std::string epochs_text_ = "",
                std::string batch_text_ = "", std::string lr_text_ = "")
      : epochs(epochs_), batch(batch_), lr(lr_), epochs_text(std::move(epochs_text_)),
        batch_text(std::move(batch_text_)), lr_text(std::move(lr_text_)) {}
};

// The common flags plus --resume, for `train` subcommands; --help shows `d`.
void add_train_flags(Command& train, CommonArgs& a, const TrainDefaults& d = {});
// --help of a `train` whose common flags came from add_common_flags shows `d`.
void show_train_defaults(Command& train, const TrainDefaults& d);
// a.epochs, a.batch, a.lr still unset (-1) take d's values (those d sets).
void apply_train_defaults(CommonArgs& a, const TrainDefaults& d);
// Parses argv; returns -1 to continue, or the exit status (0 for --help, 2 for a usage error).
// A program with subcommands (train / eval / ...) needs exactly one of them.
int parse(CommandLine& app, int argc, char** argv);

// The running program's name as parse() found it in argv[0] ("rcnn" for bin/rcnn); "" before.
const std::string& program_name();

// Runs body, turning exceptions into "error: <what>" and exit status 1.
int run_guarded(const std::function<int()>& body);

// Applies --threads (omp_set_num_threads) when > 0.
void apply_threads(int threads);

}  // namespace dl::cli
