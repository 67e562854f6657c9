#include "grading/compare.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace dl::grading {
using json = nlohmann::json;

std::string format_number(double v) { return fmt::format("{:.9g}", v); }

std::string format_tolerance(const Tolerance& t) {
  if (t.abs == 0 && t.rel == 0) return "exact";
  return fmt::format("abs {:g} + rel {:g}", t.abs, t.rel);
}

namespace {

std::string text(const json& v) {
  if (v.is_number()) return format_number(v.get<double>());
  if (v.is_null()) return "NaN";
  const std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

bool close(const json& e, const json& g, const Tolerance& t) {
  if (e.is_null() || g.is_null()) return e.is_null() && g.is_null();
  if (e.is_number() && g.is_number()) {
    const double a = e.get<double>(), b = g.get<double>();
    if (a == b) return true;   // also equal infinities
    return std::fabs(a - b) <= t.abs + t.rel * std::fabs(a);
  }
  return e == g;  // booleans, strings
}

bool is_tensor(const json& v) {
  return v.is_object() && v.size() == 2 && v.contains("shape") && v.contains("data") &&
         v["shape"].is_array() && v["data"].is_array();
}

std::string tensor_index(const json& shape, size_t flat) {
  std::vector<size_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    const size_t n = std::max<int64_t>(1, shape[d].get<int64_t>());
    idx[d] = flat % n;
    flat /= n;
  }
  return fmt::format("[{}]", fmt::join(idx, ", "));
}

Mismatch differ(std::string where, std::string expected, std::string got, const Tolerance& t) {
  return Mismatch{true, std::move(where), std::move(expected), std::move(got), format_tolerance(t)};
}

Mismatch walk(const json& e, const json& g, const std::string& where, const Tolerance& t) {
  if (e.is_object() && (e.contains("at_least") || e.contains("at_most"))) {
    if (!g.is_number()) return differ(where, "a number", text(g), t);
    const double v = g.get<double>();
    if (e.contains("at_least") && !(v >= e["at_least"].get<double>()))
      return differ(where, ">= " + text(e["at_least"]), text(g), t);
    if (e.contains("at_most") && !(v <= e["at_most"].get<double>()))
      return differ(where, "<= " + text(e["at_most"]), text(g), t);
    return {};
  }
  if (is_tensor(e)) {
    if (!is_tensor(g) || g["shape"] != e["shape"])
      return differ(where + " (shape)", e["shape"].dump(),
                      is_tensor(g) ? g["shape"].dump() : text(g), t);
    const json &ed = e["data"], &gd = g["data"];
    if (ed.size() != gd.size())
      return differ(where + " (size)", std::to_string(ed.size()), std::to_string(gd.size()), t);
    for (size_t i = 0; i < ed.size(); ++i)
      if (!close(ed[i], gd[i], t))
        return differ(where + tensor_index(e["shape"], i), text(ed[i]), text(gd[i]), t);
    return {};
  }
  if (e.is_object()) {
    if (!g.is_object()) return differ(where, "an object", text(g), t);
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string w = where.empty() ? it.key() : where + "." + it.key();
      if (!g.contains(it.key())) return differ(w, text(*it), "(missing)", t);
      Mismatch m = walk(*it, g[it.key()], w, t);
      if (m.found) return m;
    }
    return {};
  }
  if (e.is_array()) {
    if (!g.is_array()) return differ(where, "an array", text(g), t);
    // Compare the common prefix first: the first differing value says more than
    // "wrong length" (an NMS that keeps one box too many differs at that box).
    for (size_t i = 0; i < std::min(e.size(), g.size()); ++i) {
      Mismatch m = walk(e[i], g[i], where + "[" + std::to_string(i) + "]", t);
      if (m.found) return m;
    }
    if (e.size() != g.size())
      return differ(where + " (length)", std::to_string(e.size()), std::to_string(g.size()), t);
    return {};
  }
  if (!close(e, g, t)) return differ(where, text(e), text(g), t);
  return {};
}

void count(const json& a, const json& b, DiffSummary& s) {
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (b.is_object() && b.contains(it.key())) {
        count(*it, b[it.key()], s);
      } else {
        s.total += 1;
        s.changed += 1;
      }
    }
  } else if (a.is_array()) {
    if (!b.is_array() || a.size() != b.size()) {
      s.total += 1;
      s.changed += 1;
      return;
    }
    for (size_t i = 0; i < a.size(); ++i) count(a[i], b[i], s);
  } else {
    s.total += 1;
    if (a != b) {
      s.changed += 1;
      if (a.is_number() && b.is_number())
        s.max_abs = std::max(s.max_abs, std::fabs(a.get<double>() - b.get<double>()));
    }
  }
}

}  // namespace

Mismatch first_mismatch(const GoldenCase& c, const json& got) {
  if (!got.is_object()) return differ("outputs", "an object", text(got), c.tolerance);
  for (auto it = c.expected.begin(); it != c.expected.end(); ++it) {
    const Tolerance t = c.tolerance_for(it.key());
    if (!got.contains(it.key())) return differ(it.key(), text(*it), "(missing)", t);
    Mismatch m = walk(*it, got[it.key()], it.key(), t);
    if (m.found) return m;
  }
  return {};
}

DiffSummary diff_summary(const json& before, const json& after) {
  DiffSummary s;
  count(after, before, s);
  return s;
}

}  // namespace dl::grading
