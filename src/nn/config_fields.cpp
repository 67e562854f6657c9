#include "nn/config_fields.h"

#include <fmt/core.h>

#include <climits>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace dl::nn {

using json = nlohmann::json;

namespace {

// A JSON value for an error message: one line, not a whole array pasted in.
std::string value_text(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

[[noreturn]] void refuse(const std::string& name, const json& value, const std::string& expected) {
  refuse_config(name, value_text(value), expected);
}

// An integer JSON value (not 3.0: a model file written by to_json holds ints as ints).
// Unsigned values beyond long long clamp to its maximum, which every range refuses.
bool as_integer(const json& v, long long& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<unsigned long long>();
    out = u > static_cast<unsigned long long>(LLONG_MAX) ? LLONG_MAX : static_cast<long long>(u);
    return true;
  }
  if (v.is_number_integer()) {
    out = v.get<long long>();
    return true;
  }
  return false;
}

std::string range_text(const ConfigFields::Field& f) {
  if (f.kind == ConfigFields::Field::Kind::Int || f.kind == ConfigFields::Field::Kind::Ints) {
    std::string s = fmt::format("{}..{}", static_cast<long long>(f.lo), static_cast<long long>(f.hi));
    if (f.step_by > 1) s += fmt::format(" in steps of {}", f.step_by);
    return s;
  }
  return fmt::format("{}..{}", static_cast<float>(f.lo), static_cast<float>(f.hi));
}

// One int (a field or an element of an int vector), range-checked.
int read_int(const ConfigFields::Field& f, const json& v, const std::string& name) {
  long long x = 0;
  if (!as_integer(v, x)) refuse(name, v, "an integer in " + range_text(f));
  if (x < f.lo || x > f.hi || (x - static_cast<long long>(f.lo)) % f.step_by != 0)
    refuse(name, v, range_text(f));
  return static_cast<int>(x);
}

// One float, finite and range-checked as the float the member will hold.
float read_float(const ConfigFields::Field& f, const json& v, const std::string& name) {
  if (!v.is_number()) refuse(name, v, "a number in " + range_text(f));
  const double d = v.get<double>();
  if (!(std::fabs(d) <= std::numeric_limits<float>::max())) refuse(name, v, range_text(f));
  const float x = static_cast<float>(d);
  if (x < static_cast<float>(f.lo) || x > static_cast<float>(f.hi)) refuse(name, v, range_text(f));
  return x;
}

}  // namespace

void refuse_config(const std::string& field, const std::string& value,
                   const std::string& expected) {
  throw std::invalid_argument("bad model config: " + field + " = " + value + ", expected " +
                              expected);
}

// ---- declaring ----------------------------------------------------------------------

ConfigFields::Field& ConfigFields::Field::optional() {
  is_optional = true;
  return *this;
}

ConfigFields::Field& ConfigFields::Field::step(int n) {
  if (kind != Kind::Int && kind != Kind::Ints) throw std::logic_error(name + ": step of a non-int");
  if (n < 1) throw std::logic_error(name + ": step below 1");
  step_by = n;
  return *this;
}

ConfigFields::Field& ConfigFields::Field::length(size_t min, size_t max) {
  if (kind != Kind::Ints && kind != Kind::Floats && kind != Kind::NestedList)
    throw std::logic_error(name + ": length of a non-vector");
  min_length = min;
  max_length = max;
  return *this;
}

std::string ConfigFields::Field::expected() const {
  switch (kind) {
    case Kind::Int:
    case Kind::Float:
      return range_text(*this);
    case Kind::String: {
      if (allowed.empty()) return "a string";
      std::string s;
      for (size_t i = 0; i < allowed.size(); ++i) {
        if (i > 0) s += i + 1 == allowed.size() ? " or " : ", ";
        s += json(allowed[i]).dump();
      }
      return s;
    }
    case Kind::Bool:
      return "true or false";
    case Kind::Ints:
    case Kind::Floats: {
      const std::string count = min_length == max_length
                                    ? fmt::format("{}", min_length)
                                    : fmt::format("{} to {}", min_length, max_length);
      return fmt::format("{} {} in {}", count, kind == Kind::Ints ? "integers" : "numbers",
                         range_text(*this));
    }
    case Kind::Nested:
      return "a JSON object";
    case Kind::NestedList:
      return min_length == max_length ? fmt::format("{} JSON objects", min_length)
                                      : fmt::format("{} to {} JSON objects", min_length, max_length);
  }
  return "";
}

ConfigFields::ConfigFields(std::string arch, std::string model)
    : arch_(std::move(arch)), model_(std::move(model)) {}

ConfigFields::Field& ConfigFields::add(const std::string& name, Field::Kind kind) {
  Field& f = fields_.emplace_back();
  f.name = name;
  f.kind = kind;
  return f;
}

ConfigFields::Field& ConfigFields::field(const std::string& name, int& member, int lo, int hi) {
  Field& f = add(name, Field::Kind::Int);
  f.int_member = &member;
  f.lo = lo;
  f.hi = hi;
  return f;
}

ConfigFields::Field& ConfigFields::field(const std::string& name, float& member, float lo,
                                         float hi) {
  Field& f = add(name, Field::Kind::Float);
  f.float_member = &member;
  f.lo = lo;
  f.hi = hi;
  return f;
}

ConfigFields::Field& ConfigFields::field(const std::string& name, std::string& member,
                                         std::vector<std::string> allowed) {
  Field& f = add(name, Field::Kind::String);
  f.string_member = &member;
  f.allowed = std::move(allowed);
  return f;
}

ConfigFields::Field& ConfigFields::field(const std::string& name, bool& member) {
  Field& f = add(name, Field::Kind::Bool);
  f.bool_member = &member;
  return f;
}

ConfigFields::Field& ConfigFields::field(const std::string& name, std::vector<int>& member,
                                         int lo, int hi) {
  Field& f = add(name, Field::Kind::Ints);
  f.ints_member = &member;
  f.lo = lo;
  f.hi = hi;
  return f;
}

ConfigFields::Field& ConfigFields::field(const std::string& name, std::vector<float>& member,
                                         float lo, float hi) {
  Field& f = add(name, Field::Kind::Floats);
  f.floats_member = &member;
  f.lo = lo;
  f.hi = hi;
  return f;
}

ConfigFields::Field& ConfigFields::nested(const std::string& name, ConfigFields fields) {
  Field& f = add(name, Field::Kind::Nested);
  f.nested = std::make_shared<ConfigFields>(std::move(fields));
  return f;
}

void ConfigFields::constant(const std::string& name, int value) {
  Field& f = add(name, Field::Kind::Int);
  f.write_only = true;
  f.int_constant = value;
}

void ConfigFields::constant(const std::string& name, float value) {
  Field& f = add(name, Field::Kind::Float);
  f.write_only = true;
  f.float_constant = value;
}

// ---- writing --------------------------------------------------------------------------

// Each member goes in as its own C++ type: an int becomes a JSON integer, a float a JSON
// number holding exactly that float's value (as the configs wrote them before this list).
json ConfigFields::to_json_value() const {
  json j = json::object();
  j["arch"] = arch_;
  for (const Field& f : fields_) {
    if (f.write_only) {
      if (f.kind == Field::Kind::Int)
        j[f.name] = f.int_constant;
      else
        j[f.name] = f.float_constant;
      continue;
    }
    switch (f.kind) {
      case Field::Kind::Int: j[f.name] = *f.int_member; break;
      case Field::Kind::Float: j[f.name] = *f.float_member; break;
      case Field::Kind::String: j[f.name] = *f.string_member; break;
      case Field::Kind::Bool: j[f.name] = *f.bool_member; break;
      case Field::Kind::Ints: j[f.name] = *f.ints_member; break;
      case Field::Kind::Floats: j[f.name] = *f.floats_member; break;
      case Field::Kind::Nested: j[f.name] = f.nested->to_json_value(); break;
      case Field::Kind::NestedList: {
        json list = json::array();
        for (size_t i = 0; i < f.list_size(); ++i)
          list.push_back(f.list_element(i).to_json_value());
        j[f.name] = list;
        break;
      }
    }
  }
  return j;
}

std::string ConfigFields::to_json() const { return to_json_value().dump(); }

// ---- reading ----------------------------------------------------------------------------

void ConfigFields::from_json(const std::string& text) const {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  read(j, "");
}

void ConfigFields::read(const json& j, const std::string& prefix) const {
  const auto arch = j.is_object() ? j.find("arch") : j.end();
  const bool found = j.is_object() && arch != j.end();
  if (!found || !arch->is_string() || arch->get<std::string>() != arch_) {
    const std::string seen = !found ? "?" : arch->is_string() ? arch->get<std::string>()
                                                              : value_text(*arch);
    throw std::invalid_argument("not " + model_ + " (arch '" + seen + "')");
  }
  for (const Field& f : fields_) {
    if (f.write_only) continue;
    const auto it = j.find(f.name);
    if (it == j.end()) {
      if (f.is_optional) continue;
      throw std::invalid_argument("bad model config: " + prefix + f.name + " missing, expected " +
                                  f.expected());
    }
    read_field(f, *it, prefix + f.name);
  }
}

void ConfigFields::read_field(const Field& f, const json& v, const std::string& name) const {
  switch (f.kind) {
    case Field::Kind::Int:
      *f.int_member = read_int(f, v, name);
      return;
    case Field::Kind::Float:
      *f.float_member = read_float(f, v, name);
      return;
    case Field::Kind::String: {
      if (!v.is_string()) refuse(name, v, f.expected());
      const std::string s = v.get<std::string>();
      bool ok = f.allowed.empty();
      for (const std::string& a : f.allowed) ok = ok || s == a;
      if (!ok) refuse(name, v, f.expected());
      *f.string_member = s;
      return;
    }
    case Field::Kind::Bool:
      if (!v.is_boolean()) refuse(name, v, f.expected());
      *f.bool_member = v.get<bool>();
      return;
    case Field::Kind::Ints:
    case Field::Kind::Floats: {
      if (!v.is_array() || v.size() < f.min_length || v.size() > f.max_length)
        refuse(name, v, f.expected());
      std::vector<int> ints;
      std::vector<float> floats;
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string element = fmt::format("{}[{}]", name, i);
        if (f.kind == Field::Kind::Ints)
          ints.push_back(read_int(f, v[i], element));
        else
          floats.push_back(read_float(f, v[i], element));
      }
      if (f.kind == Field::Kind::Ints)
        *f.ints_member = std::move(ints);
      else
        *f.floats_member = std::move(floats);
      return;
    }
    case Field::Kind::Nested:
      if (!v.is_object()) refuse(name, v, f.expected());
      f.nested->read(v, name + ".");
      return;
    case Field::Kind::NestedList:
      if (!v.is_array() || v.size() < f.min_length || v.size() > f.max_length)
        refuse(name, v, f.expected());
      f.list_resize(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string element = fmt::format("{}[{}]", name, i);
        if (!v[i].is_object()) refuse(element, v[i], "a JSON object");
        f.list_element(i).read(v[i], element + ".");
      }
      return;
  }
}

}  // namespace dl::nn
