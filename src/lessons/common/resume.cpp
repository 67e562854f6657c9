#include "lessons/common/resume.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "nn/safetensors.h"
#include "util/files.h"

namespace dl::cli {
namespace {

using nlohmann::json;

// The model's tensors as save_checkpoint stores them: parameters, then buffers.
std::vector<std::pair<std::string, Tensor*>> model_tensors(nn::Module& model) {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& p : model.named_parameters()) out.emplace_back(p.first, &p.second.node()->value);
  for (auto& b : model.named_buffers()) out.push_back(b);
  return out;
}

// uint64 values as decimal strings: JSON numbers are doubles to most readers.
json rng_json(const Rng::State& s) {
  return {std::to_string(s.state), std::to_string(s.inc), std::to_string(s.seed)};
}

json log_json(const EpochLog& l) {
  return {{"epoch", l.epoch}, {"lr", l.lr}, {"train_loss", l.train_loss},
          {"train_acc", l.train_acc}, {"seconds", l.seconds}, {"metrics", l.metrics}};
}

EpochLog log_from_json(const json& j) {
  EpochLog l;
  l.epoch = j.at("epoch").get<int>();
  l.lr = j.at("lr").get<double>();
  l.train_loss = j.at("train_loss").get<double>();
  l.train_acc = j.at("train_acc").get<double>();
  l.seconds = j.at("seconds").get<double>();
  l.metrics = j.at("metrics").get<std::map<std::string, double>>();
  return l;
}

}  // namespace

std::string resume_path(const std::string& model_path) {
  namespace fs = std::filesystem;
  return (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string() + ".resume";
}

void save_resume_point(const std::string& path, nn::Module& model, nn::Optimizer& opt,
                       const std::vector<EpochLog>& done, const std::string& run_key) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, t] : model_tensors(model)) tensors.emplace_back("model." + name, *t);
  for (auto& [name, t] : opt.state_tensors())
    if (t->defined()) tensors.emplace_back("optim." + name, *t);
  json counters = json::object(), rngs = json::object(), logs = json::array();
  for (auto& [name, c] : opt.state_counters()) counters[name] = *c;
  for (auto& [name, r] : model.named_rngs()) rngs[name] = rng_json(r->state());
  for (const EpochLog& l : done) logs.push_back(log_json(l));
  save_safetensors(path, tensors,
                   {{"run_key", run_key},
                    {"epochs_done", std::to_string(done.size())},
                    {"optimizer_counters", counters.dump()},
                    {"rngs", rngs.dump()},
                    {"logs", logs.dump()}});
}

std::vector<EpochLog> load_resume_point(const std::string& path, nn::Module& model,
                                        nn::Optimizer& opt, const std::string& run_key) {
  const SafeTensors file = load_safetensors(path);
  auto meta = [&](const std::string& key) -> const std::string& {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end())
      throw FileError(path, "not a resume point (no '" + key + "' in its metadata)");
    return it->second;
  };
  if (meta("run_key") != run_key)
    throw FileError(path, "this resume point belongs to a run with other settings (" +
                              meta("run_key") + "; this run: " + run_key +
                              "); resume with the same flags, or train without --resume");
  // Everything is checked before the first value is copied.
  const auto mt = model_tensors(model);
  for (auto& [name, t] : mt) {
    const Tensor* src = file.find("model." + name);
    if (!src || src->shape() != t->shape())
      throw FileError(path, fmt::format("tensor 'model.{}' is missing or has another shape "
                                        "than the model's {}", name, t->shape_str()));
  }
  const std::vector<Var>& params = opt.params();
  auto st = opt.state_tensors();
  for (auto& [name, t] : st) {
    const Tensor* src = file.find("optim." + name);
    const size_t i = std::stoul(name.substr(name.find('.') + 1));
    if (src && (i >= params.size() || src->shape() != params[i].value().shape()))
      throw FileError(path, fmt::format("tensor 'optim.{}' does not fit parameter {}", name, i));
  }
  std::vector<int64_t> counts;
  std::vector<Rng::State> rng_states;
  std::vector<EpochLog> done;
  try {
    const json counters = json::parse(meta("optimizer_counters"));
    const json rngs = json::parse(meta("rngs"));
    for (auto& [name, c] : opt.state_counters()) counts.push_back(counters.at(name).get<int64_t>());
    for (auto& [name, r] : model.named_rngs()) {
      const json& v = rngs.at(name);
      rng_states.push_back({std::stoull(v.at(0).get<std::string>()),
                            std::stoull(v.at(1).get<std::string>()),
                            std::stoull(v.at(2).get<std::string>())});
    }
    for (const json& l : json::parse(meta("logs"))) {
      done.push_back(log_from_json(l));
      done.back().resumed = true;
    }
  } catch (const std::exception& e) {
    throw FileError(path, std::string("corrupt resume metadata: ") + e.what());
  }

  for (auto& [name, t] : mt) {
    const Tensor& src = *file.find("model." + name);
    std::copy(src.begin(), src.end(), t->begin());
  }
  for (auto& [name, t] : st) {
    const Tensor* src = file.find("optim." + name);
    *t = src ? src->clone() : Tensor();
  }
  size_t k = 0;
  for (auto& [name, c] : opt.state_counters()) *c = counts[k++];
  k = 0;
  for (auto& [name, r] : model.named_rngs()) r->set_state(rng_states[k++]);
  return done;
}

}  // namespace dl::cli
