// Resume points: a training run that is interrupted (killed, out of time, a laptop lid
// closed) continues from its last finished epoch with `train --resume` and saves the
// same model, byte for byte, as a run that was never interrupted.
//
// A step depends on the weights, the optimizer's memory, the dropout generators and the
// data. The programs draw their data from Rng(seed).fork(epoch or step), so the flags
// rebuild it; everything else is saved here, after every epoch but the last:
//   the model's parameters and buffers        "model.<name>"
//   the optimizer's per-parameter state       "optim.m.<i>", "optim.v.<i>" (Adam), ...
//   its step counts, the dropout generators,  metadata (JSON)
//   the epochs done and their logs
// The file is STEM.resume beside the model: a safetensors file, named so it is never
// taken for a model, and removed once the model is saved.
#pragma once
#include <string>
#include <vector>

#include "lessons/common/train_loop.h"
#include "nn/module.h"
#include "nn/optimizer.h"

namespace dl::cli {

// MODEL_DIR/STEM.resume for MODEL_DIR/STEM.safetensors.
std::string resume_path(const std::string& model_path);

// `run_key` names what must not change between the interrupted and the resumed run
// (epochs, steps per epoch, optimizer, learning rate, ...): a resume point of another
// run is refused instead of silently continuing a different schedule.
void save_resume_point(const std::string& path, nn::Module& model, nn::Optimizer& opt,
                       const std::vector<EpochLog>& done, const std::string& run_key);

// Restores model, optimizer and dropout generators; returns the logs of the epochs
// done. Throws FileError naming the file when it belongs to another run or does not
// fit the model; nothing is changed then.
std::vector<EpochLog> load_resume_point(const std::string& path, nn::Module& model,
                                        nn::Optimizer& opt, const std::string& run_key);

}  // namespace dl::cli
