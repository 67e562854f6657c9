// Model files as every program uses them: the checkpoint's "config" metadata says
// which architecture to build before loading the weights, and a missing file or a
// model written by another program is a one-line error naming the file.
#pragma once
#include <functional>
#include <string>

namespace dl::cli {

// The "config" metadata (JSON) of `path`. `program` names who writes such files, for
// the hint in the message: "no such model file (run `bin/<program> train` first)".
std::string read_model_config(const std::string& path, const std::string& program);

// Times fn (after one warm-up call) for at least min_seconds and 3 calls; returns
// calls per second multiplied by `items` (images/s when fn processes a batch).
double items_per_second(const std::function<void()>& fn, int items, double min_seconds = 1.0);

}  // namespace dl::cli
