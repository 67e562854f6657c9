// A model config's fields, declared once. A model file stores its config as JSON in
// the checkpoint's metadata so that it can rebuild its own architecture; the config
// lists each field a single time — its JSON name, the member it lives in, the values a
// model file may hold — and that one list both writes the JSON (to_json) and reads and
// range-checks it (from_json). A new field cannot be written but forgotten on reading,
// or read without a check: a model file is input like any other, and a config that
// asks for 2e9 classes must be refused with a message, not turned into a 1 TB allocation.
//
//   nn::ConfigFields LocalizerConfig::fields() {
//     nn::ConfigFields f("localizer", "a classify_localize model");
//     f.field("input_size", input_size, 16, 1024).step(16);
//     f.field("dropout", dropout, 0.0f, 0.99f);
//     f.field("cls_input", cls_input, {"fc", "avg"}).optional();  // older files lack it
//     return f;
//   }
//
// from_json refuses with std::invalid_argument:
//   "not a classify_localize model (arch 'fast_rcnn')"       another program's model
//   "bad model config: input_size = 2000000000, expected 16..1024 in steps of 16"
//   "bad model config: c1 missing, expected 1..4096"
//   "bad model config: cnn.num_classes = ..."                   a field of a nested config
// (cli::read_model_config_as puts the file's name in front).
// Choosing a range: at least what the training program's flags can produce (a model it
// wrote must load again), at most what keeps the model's allocations sane.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace dl::nn {

class ConfigFields {
 public:
  // One declared field. The setters refine it where it is declared:
  // f.field("levels", levels, 1, 64).length(1, 16).optional().
  struct Field {
    enum class Kind { Int, Float, String, Bool, Ints, Floats, Nested, NestedList };
    std::string name;
    Kind kind = Kind::Int;
    // The member it lives in: exactly one of these is set (none for a constant).
    int* int_member = nullptr;
    float* float_member = nullptr;
    std::string* string_member = nullptr;
    bool* bool_member = nullptr;
    std::vector<int>* ints_member = nullptr;
    std::vector<float>* floats_member = nullptr;
    std::shared_ptr<ConfigFields> nested;
    // A list of configs: its size, resizing it (before reading), element i's fields.
    std::function<size_t()> list_size;
    std::function<void(size_t)> list_resize;
    std::function<ConfigFields(size_t)> list_element;
    // Ints and floats (and their vectors' elements): lo..hi inclusive, and for ints
    // lo, lo + step, lo + 2 step, ... Floats are compared as floats (the value a float
    // member holds), and must be finite.
    double lo = 0, hi = 0;
    int step_by = 1;
    size_t min_length = 1, max_length = 16;  // vectors and lists
    std::vector<std::string> allowed;        // strings: empty = any string
    bool is_optional = false;                // a missing field keeps the member's value
    // Constants: written, never read back (e.g. "stride", which the code fixes).
    bool write_only = false;
    int int_constant = 0;
    float float_constant = 0;

    // Model files written before the field existed lack it: reading keeps the default.
    Field& optional();
    // Ints only: the value must be lo + k * n.
    Field& step(int n);
    // Vectors and lists only: how many elements (default 1..16).
    Field& length(size_t min, size_t max);
    // What the field accepts, as the error message says it: "16..1024 in steps of 16",
    // "\"fc\" or \"avg\"", "1 to 16 numbers in 0..8".
    std::string expected() const;
  };

  // `arch` is written as the "arch" field and must match when reading; otherwise
  // from_json throws "not <model> (arch '<found>')", e.g. ConfigFields("crop_classifier",
  // "a sliding_window model") — `model` names the program whose files these are.
  ConfigFields(std::string arch, std::string model);

  Field& field(const std::string& name, int& member, int lo, int hi);
  Field& field(const std::string& name, float& member, float lo, float hi);
  // `allowed` empty: any string.
  Field& field(const std::string& name, std::string& member,
               std::vector<std::string> allowed = {});
  Field& field(const std::string& name, bool& member);
  Field& field(const std::string& name, std::vector<int>& member, int lo, int hi);
  Field& field(const std::string& name, std::vector<float>& member, float lo, float hi);
  // Another config's fields as a JSON object under `name` (R-CNN's CNN config); its
  // errors name the field "name.field".
  Field& nested(const std::string& name, ConfigFields fields);
  // A list of configs of one type under `name` (DeepPose's stages): a JSON array of
  // objects, each written and read by Config::fields(); reading first resizes `list` to
  // the array's length. Errors name the field "name[i].field".
  template <class Config>
  Field& nested_list(const std::string& name, std::vector<Config>& list) {
    Field& f = add(name, Field::Kind::NestedList);
    f.list_size = [&list] { return list.size(); };
    f.list_resize = [&list](size_t n) { list.resize(n); };
    f.list_element = [&list](size_t i) { return list[i].fields(); };
    return f;
  }
  // Written only: an int stays an int in the JSON, a float a float.
  void constant(const std::string& name, int value);
  void constant(const std::string& name, float value);

  // The JSON object text stored in the model file (keys sorted, as nlohmann::json dumps).
  std::string to_json() const;
  // Reads every field from `text` into its member, checking each; throws
  // std::invalid_argument (see the top of the file). Fields the text has but this list
  // lacks are ignored. On a throw the members may be partly overwritten.
  void from_json(const std::string& text) const;

 private:
  Field& add(const std::string& name, Field::Kind kind);
  nlohmann::json to_json_value() const;
  void read(const nlohmann::json& j, const std::string& prefix) const;
  void read_field(const Field& f, const nlohmann::json& v, const std::string& name) const;

  std::string arch_, model_;
  std::deque<Field> fields_;  // a deque: the Field& handed out stay valid as it grows
};

// Throws std::invalid_argument("bad model config: <field> = <value>, expected
// <expected>"): for the checks a single field cannot make (a value that depends on
// another field's).
[[noreturn]] void refuse_config(const std::string& field, const std::string& value,
                                const std::string& expected);

// A model config's to_json / from_json, both through its one fields() list: the JSON its
// model file stores, and a config read back from it (every field checked). A config
// with checks across fields runs them after config_from_json.
template <class Config>
std::string config_to_json(const Config& c) {
  return Config(c).fields().to_json();  // fields() binds members: a copy keeps `c` const
}
template <class Config>
Config config_from_json(const std::string& text) {
  Config c;
  c.fields().from_json(text);
  return c;
}

}  // namespace dl::nn
