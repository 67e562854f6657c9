// How `bin/compare` reaches the other programs: a method is PROGRAM or PROGRAM:MODEL,
// run as bin/PROGRAM (beside compare) on MODELS/MODEL.safetensors, one subcommand at a
// time as a child process whose --json output is read back.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dl::cli {

// METHOD is PROGRAM or PROGRAM:MODEL: the program's name, and the model file's stem.
std::string program_of(const std::string& method);
std::string model_stem_of(const std::string& method);

// bin/PROGRAM beside this executable; FileError when there is no such program.
std::string program_path(const std::string& program);
// MODELS/STEM.safetensors, which must exist (FileError naming it and the training command).
std::string model_of(const std::string& method, const std::string& models_dir);

// Whether `bin/NAME eval` takes --cache-dir, i.e. reads region proposals (the shared
// proposal flags, src/lessons/common/proposal_options.h): its --help says so.
bool takes_proposal_cache(const std::string& program);

// Runs `argv` (program's subcommand with --json) and returns the JSON it printed; a
// failure is one line naming the program and the child's last error line.
nlohmann::json run_json(const std::string& program, const std::vector<std::string>& argv,
                        double time_limit);

}  // namespace dl::cli
