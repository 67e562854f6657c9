// How long a model took to train, read from the files its training wrote beside it (what
// `bin/compare` reports as training time).
#pragma once
#include <string>

namespace dl::cli {

// MODELS/NAME.train.json's "train_seconds" when the program writes one
// (programs whose training is more than epochs, e.g. R-CNN's features and SVMs), else
// the `seconds` column of MODELS/NAME.csv summed (the shared training loop writes one row
// per epoch), plus MODELS/NAME.stage*.csv for programs that train in stages. Never in
// the checkpoint: a wall time there would make two runs' model files differ, and
// detlab's are bit-identical.
// -1 when nothing records it, or when NAME.train.json belongs to another run than the
// model (its weights fingerprint differs: a run killed between its logs and its model).
double recorded_train_seconds(const std::string& model);

}  // namespace dl::cli
