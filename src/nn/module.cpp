#include "nn/module.h"

namespace dl::nn {

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

Var Module::register_parameter(const std::string& name, Tensor value) {
  params_.emplace_back(name, Var(std::move(value), true));
  return params_.back().second;
}

Tensor* Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, std::move(value));
  return &buffers_.back().second;
}

void Module::register_rng(const std::string& name, Rng* rng) { rngs_.emplace_back(name, rng); }

void Module::register_module(const std::string& name, std::shared_ptr<Module> child) {
  children_.emplace_back(name, std::move(child));
}

void Module::collect_parameters(const std::string& prefix,
                                std::vector<std::pair<std::string, Var>>& out) const {
  for (const auto& p : params_) out.emplace_back(prefix + p.first, p.second);
  for (const auto& c : children_) c.second->collect_parameters(prefix + c.first + ".", out);
}

void Module::collect_buffers(const std::string& prefix,
                             std::vector<std::pair<std::string, Tensor*>>& out) {
  for (auto& b : buffers_) out.emplace_back(prefix + b.first, &b.second);
  for (auto& c : children_) c.second->collect_buffers(prefix + c.first + ".", out);
}

std::vector<std::pair<std::string, Var>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Var>> out;
  collect_parameters("", out);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect_buffers("", out);
  return out;
}

std::vector<std::pair<std::string, Rng*>> Module::named_rngs() {
  std::vector<std::pair<std::string, Rng*>> out = rngs_;
  for (auto& c : children_)
    for (auto& r : c.second->named_rngs()) out.emplace_back(c.first + "." + r.first, r.second);
  return out;
}

std::vector<Var> Module::parameters() const {
  std::vector<Var> out;
  for (auto& p : named_parameters()) out.push_back(p.second);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& p : named_parameters()) n += p.second.value().numel();
  return n;
}

void Module::set_requires_grad(bool on) {
  for (auto& p : named_parameters()) {
    p.second.node()->requires_grad = on;
    if (!on) p.second.node()->grad = Tensor();
  }
}

}  // namespace dl::nn
