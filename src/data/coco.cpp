// COCO JSON through nlohmann::json. Every read goes through a few helpers that know
// where they are in the document, so errors name the file and the exact field.
#include "data/coco.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "util/files.h"

namespace dl {

using json = nlohmann::json;

namespace {

// Where we are: file name plus a path such as "annotations[3].segmentation".
struct Ctx {
  const std::string& file;
  std::string where;

  Ctx at(const std::string& key) const { return {file, where.empty() ? key : where + "." + key}; }
  Ctx at(size_t i) const { return {file, where + "[" + std::to_string(i) + "]"}; }
  [[noreturn]] void fail(const std::string& problem) const {
    throw FileError(file, (where.empty() ? "" : where + ": ") + problem);
  }
};

const json& field(const json& obj, const char* key, const Ctx& ctx) {
  if (!obj.is_object()) ctx.fail("expected an object");
  auto it = obj.find(key);
  if (it == obj.end()) ctx.fail(std::string("missing field '") + key + "'");
  return *it;
}

double get_number(const json& j, const Ctx& ctx) {
  if (!j.is_number()) ctx.fail("expected a number, got " + std::string(j.type_name()));
  return j.get<double>();
}

int64_t get_int(const json& j, const Ctx& ctx) {
  if (!j.is_number_integer()) ctx.fail("expected an integer, got " + std::string(j.type_name()));
  return j.get<int64_t>();
}

std::string get_string(const json& j, const Ctx& ctx) {
  if (!j.is_string()) ctx.fail("expected a string, got " + std::string(j.type_name()));
  return j.get<std::string>();
}

const json& get_array(const json& j, const Ctx& ctx) {
  if (!j.is_array()) ctx.fail("expected an array, got " + std::string(j.type_name()));
  return j;
}

std::vector<double> get_numbers(const json& j, const Ctx& ctx) {
  std::vector<double> out;
  const json& a = get_array(j, ctx);
  for (size_t i = 0; i < a.size(); ++i) out.push_back(get_number(a[i], ctx.at(i)));
  return out;
}

// Pixel coordinates and sizes: finite and within 1e6 of the origin (a million-pixel-wide
// image is already far past what any program here loads). An Inf box would otherwise be
// counted as a missed object and silently change AP.
constexpr double kMaxCoordinate = 1e6;
std::vector<double> get_coordinates(const json& j, const Ctx& ctx) {
  std::vector<double> v = get_numbers(j, ctx);
  for (size_t i = 0; i < v.size(); ++i)
    if (!(std::fabs(v[i]) <= kMaxCoordinate))
      ctx.at(i).fail("coordinate out of range (|v| <= 1e6)");
  return v;
}

CocoSegmentation parse_segmentation(const json& j, const Ctx& ctx) {
  CocoSegmentation s;
  if (j.is_array()) {  // polygons: a list of flat coordinate lists
    s.kind = CocoSegmentation::Kind::Polygons;
    for (size_t i = 0; i < j.size(); ++i) {
      s.polygons.push_back(get_coordinates(j[i], ctx.at(i)));
      if (s.polygons.back().size() % 2 != 0 || s.polygons.back().size() < 6)
        ctx.at(i).fail("a polygon needs an even number (>= 6) of coordinates");
    }
    return s;
  }
  if (!j.is_object()) ctx.fail("expected polygons or an RLE object");
  const std::vector<double> size = get_numbers(field(j, "size", ctx), ctx.at("size"));
  if (size.size() != 2 || !(size[0] >= 0 && size[0] <= 1e6) || !(size[1] >= 0 && size[1] <= 1e6))
    ctx.at("size").fail("expected [height, width] (each 0..1e6)");
  const int h = static_cast<int>(size[0]), w = static_cast<int>(size[1]);
  const json& counts = field(j, "counts", ctx);
  try {
    if (counts.is_string()) {
      s.kind = CocoSegmentation::Kind::CompressedRle;
      s.rle = rle_from_string(counts.get<std::string>(), h, w);
    } else {
      s.kind = CocoSegmentation::Kind::Rle;
      s.rle.height = h;
      s.rle.width = w;
      for (double c : get_numbers(counts, ctx.at("counts"))) {
        if (!(c >= 0 && c <= 4294967295.0) || c != std::floor(c))
          ctx.at("counts").fail("run lengths must be integers in 0..2^32-1");
        s.rle.counts.push_back(static_cast<uint32_t>(c));
      }
      uint64_t total = 0;
      for (uint32_t c : s.rle.counts) total += c;
      if (total != static_cast<uint64_t>(h) * static_cast<uint64_t>(w))
        ctx.at("counts").fail("RLE counts sum to " + std::to_string(total) + ", expected " +
                              std::to_string(h) + "x" + std::to_string(w));
    }
  } catch (const std::invalid_argument& e) {
    ctx.at("counts").fail(e.what());
  }
  return s;
}

// Shared by annotations and results; `result` relaxes what must be present.
CocoAnnotation parse_annotation(const json& j, const Ctx& ctx, bool result) {
  CocoAnnotation a;
  if (!j.is_object()) ctx.fail("expected an object");
  if (!result) a.id = get_int(field(j, "id", ctx), ctx.at("id"));
  a.image_id = get_int(field(j, "image_id", ctx), ctx.at("image_id"));
  a.category_id = get_int(field(j, "category_id", ctx), ctx.at("category_id"));
  if (j.contains("segmentation"))
    a.segmentation = parse_segmentation(j["segmentation"], ctx.at("segmentation"));
  if (j.contains("bbox") || !result) {
    const std::vector<double> b = get_coordinates(field(j, "bbox", ctx), ctx.at("bbox"));
    if (b.size() != 4) ctx.at("bbox").fail("expected [x, y, width, height]");
    if (b[2] < 0 || b[3] < 0) ctx.at("bbox").fail("negative width or height");
    a.bbox = {b[0], b[1], b[2], b[3]};
  } else if (a.segmentation.kind != CocoSegmentation::Kind::None &&
             a.segmentation.kind != CocoSegmentation::Kind::Polygons) {
    a.bbox = rle_to_bbox(a.segmentation.rle);
  }
  if (j.contains("area")) {
    a.area = get_number(j["area"], ctx.at("area"));
    if (!(a.area >= 0 && a.area <= kMaxCoordinate * kMaxCoordinate))
      ctx.at("area").fail("area must be in 0..1e12");
  }
  else if (!result) ctx.fail("missing field 'area'");
  if (j.contains("iscrowd")) a.iscrowd = get_int(j["iscrowd"], ctx.at("iscrowd")) != 0;
  else if (!result) ctx.fail("missing field 'iscrowd'");
  if (j.contains("keypoints")) {
    for (double v : get_coordinates(j["keypoints"], ctx.at("keypoints")))
      a.keypoints.push_back(static_cast<float>(v));
    if (a.keypoints.size() % 3 != 0) ctx.at("keypoints").fail("expected x, y, v triples");
    if (j.contains("num_keypoints")) {
      a.num_keypoints = static_cast<int>(get_int(j["num_keypoints"], ctx.at("num_keypoints")));
    } else {
      for (size_t k = 2; k < a.keypoints.size(); k += 3) a.num_keypoints += a.keypoints[k] > 0;
    }
  }
  if (result) a.score = get_number(field(j, "score", ctx), ctx.at("score"));
  else if (j.contains("score")) a.score = get_number(j["score"], ctx.at("score"));
  return a;
}

json parse_json(const std::string& text, const std::string& name) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw FileError(name, std::string("malformed JSON: ") + e.what());
  }
}

json segmentation_to_json(const CocoSegmentation& s) {
  if (s.kind == CocoSegmentation::Kind::Polygons) return s.polygons;
  json j;
  j["size"] = {s.rle.height, s.rle.width};
  if (s.kind == CocoSegmentation::Kind::Rle) j["counts"] = s.rle.counts;
  else j["counts"] = rle_to_string(s.rle);
  return j;
}

json annotation_to_json(const CocoAnnotation& a, bool result) {
  json j;
  if (!result) j["id"] = a.id;
  j["image_id"] = a.image_id;
  j["category_id"] = a.category_id;
  j["bbox"] = a.bbox;
  if (!result) {
    j["area"] = a.area;
    j["iscrowd"] = a.iscrowd ? 1 : 0;
  }
  if (a.segmentation.kind != CocoSegmentation::Kind::None)
    j["segmentation"] = segmentation_to_json(a.segmentation);
  if (!a.keypoints.empty()) {
    j["keypoints"] = a.keypoints;
    j["num_keypoints"] = a.num_keypoints;
  }
  if (result || a.score >= 0) j["score"] = a.score;
  return j;
}

}  // namespace

const CocoImage* CocoDataset::find_image(int64_t id) const {
  for (const CocoImage& im : images)
    if (im.id == id) return &im;
  return nullptr;
}

const CocoCategory* CocoDataset::find_category(int64_t id) const {
  for (const CocoCategory& c : categories)
    if (c.id == id) return &c;
  return nullptr;
}

namespace {
bool safe_relative_path(const std::string& p) {
  if (p.empty() || p[0] == '/' || p[0] == '\\' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find_first_of("/\\", start);
    if (end == std::string::npos) end = p.size();
    if (p.compare(start, end - start, "..") == 0 && end - start == 2) return false;
    start = end + 1;
  }
  return true;
}
}  // namespace

CocoDataset parse_coco(const std::string& text, const std::string& name) {
  const json root = parse_json(text, name);
  const Ctx top{name, ""};
  if (!root.is_object()) top.fail("expected a JSON object with images, annotations, categories");
  CocoDataset d;

  const Ctx ci = top.at("images");
  const json& images = get_array(field(root, "images", top), ci);
  std::unordered_map<int64_t, size_t> image_index;  // id -> position in d.images
  for (size_t i = 0; i < images.size(); ++i) {
    const Ctx c = ci.at(i);
    CocoImage im;
    im.id = get_int(field(images[i], "id", c), c.at("id"));
    im.file_name = get_string(field(images[i], "file_name", c), c.at("file_name"));
    // Image paths are read relative to the annotation file's folder: an absolute path
    // or a ".." step would let an annotation file point a program at any file.
    if (!safe_relative_path(im.file_name))
      c.at("file_name").fail("\"" + im.file_name +
                             "\" must be a relative path inside the dataset folder (no \"..\", not absolute)");
    // Checked before narrowing to int: a width of 2^32 + 128 must not become 128.
    const int64_t w = get_int(field(images[i], "width", c), c.at("width"));
    const int64_t h = get_int(field(images[i], "height", c), c.at("height"));
    if (w <= 0 || h <= 0 || w > 1000000 || h > 1000000)
      c.fail("width and height must be in 1..1000000");
    im.width = static_cast<int>(w);
    im.height = static_cast<int>(h);
    if (!image_index.emplace(im.id, d.images.size()).second)
      c.at("id").fail("duplicate image id " + std::to_string(im.id));
    d.images.push_back(im);
  }

  const Ctx cc = top.at("categories");
  const json& cats = get_array(field(root, "categories", top), cc);
  for (size_t i = 0; i < cats.size(); ++i) {
    const Ctx c = cc.at(i);
    CocoCategory cat;
    cat.id = get_int(field(cats[i], "id", c), c.at("id"));
    cat.name = get_string(field(cats[i], "name", c), c.at("name"));
    if (cats[i].contains("supercategory") && cats[i]["supercategory"].is_string())
      cat.supercategory = cats[i]["supercategory"].get<std::string>();
    if (cats[i].contains("keypoints")) {
      const json& kps = get_array(cats[i]["keypoints"], c.at("keypoints"));
      for (size_t k = 0; k < kps.size(); ++k)
        cat.keypoints.push_back(get_string(kps[k], c.at("keypoints").at(k)));
    }
    if (cats[i].contains("skeleton")) {
      const json& sk = get_array(cats[i]["skeleton"], c.at("skeleton"));
      for (size_t k = 0; k < sk.size(); ++k) {
        const std::vector<double> pair = get_numbers(sk[k], c.at("skeleton").at(k));
        if (pair.size() != 2) c.at("skeleton").at(k).fail("expected a pair of joint indices");
        // 1-based indices into keypoints (a limb's ends are drawn from them).
        const double n = static_cast<double>(cat.keypoints.size());
        for (double v : pair)
          if (!(v >= 1 && v <= n && v == std::floor(v)))
            c.at("skeleton").at(k).fail("joint indices must be integers in 1.." +
                                        std::to_string(cat.keypoints.size()));
        cat.skeleton.emplace_back(static_cast<int>(pair[0]), static_cast<int>(pair[1]));
      }
    }
    d.categories.push_back(cat);
  }

  const Ctx ca = top.at("annotations");
  const json& anns = get_array(field(root, "annotations", top), ca);
  for (size_t i = 0; i < anns.size(); ++i) {
    CocoAnnotation a = parse_annotation(anns[i], ca.at(i), false);
    // An annotation of an image the file does not list would be dropped silently by
    // every reader that walks the images; one whose RLE is not the image's size would
    // be pasted out of place.
    const auto found = image_index.find(a.image_id);
    if (found == image_index.end())
      ca.at(i).at("image_id").fail("no image with id " + std::to_string(a.image_id));
    const CocoImage* im = &d.images[found->second];
    const Rle& rle = a.segmentation.rle;
    if ((a.segmentation.kind == CocoSegmentation::Kind::Rle ||
         a.segmentation.kind == CocoSegmentation::Kind::CompressedRle) &&
        (rle.height != im->height || rle.width != im->width))
      ca.at(i).at("segmentation").fail("RLE size " + std::to_string(rle.height) + "x" +
                                       std::to_string(rle.width) + " is not the image's " +
                                       std::to_string(im->height) + "x" + std::to_string(im->width));
    d.annotations.push_back(std::move(a));
  }
  return d;
}

CocoDataset read_coco(const std::string& path) { return parse_coco(read_file_text(path), path); }

std::string coco_to_json(const CocoDataset& d) {
  json root;
  root["info"] = {{"description", "written by detlab"}};
  root["images"] = json::array();
  for (const CocoImage& im : d.images)
    root["images"].push_back(
        {{"id", im.id}, {"file_name", im.file_name}, {"width", im.width}, {"height", im.height}});
  root["categories"] = json::array();
  for (const CocoCategory& c : d.categories) {
    json j = {{"id", c.id}, {"name", c.name}, {"supercategory", c.supercategory}};
    if (!c.keypoints.empty()) j["keypoints"] = c.keypoints;
    if (!c.skeleton.empty()) {
      j["skeleton"] = json::array();
      for (const auto& [a, b] : c.skeleton) j["skeleton"].push_back({a, b});
    }
    root["categories"].push_back(j);
  }
  root["annotations"] = json::array();
  for (const CocoAnnotation& a : d.annotations) root["annotations"].push_back(annotation_to_json(a, false));
  return root.dump();
}

void write_coco(const std::string& path, const CocoDataset& d) {
  write_file_atomic(path, coco_to_json(d));
}

std::vector<CocoAnnotation> read_coco_results(const std::string& path) {
  const json root = parse_json(read_file_text(path), path);
  const Ctx top{path, ""};
  if (!root.is_array()) top.fail("a results file must be a JSON array of detections");
  std::vector<CocoAnnotation> out;
  for (size_t i = 0; i < root.size(); ++i) {
    out.push_back(parse_annotation(root[i], top.at(i), true));
    out.back().id = static_cast<int64_t>(i) + 1;
  }
  return out;
}

void write_coco_results(const std::string& path, const std::vector<CocoAnnotation>& results) {
  json root = json::array();
  for (const CocoAnnotation& a : results) root.push_back(annotation_to_json(a, true));
  write_file_atomic(path, root.dump());
}

Rle annotation_to_rle(const CocoAnnotation& ann, int height, int width) {
  switch (ann.segmentation.kind) {
    case CocoSegmentation::Kind::Polygons:
      return rle_from_polygons(ann.segmentation.polygons, height, width);
    case CocoSegmentation::Kind::Rle:
    case CocoSegmentation::Kind::CompressedRle:
      return ann.segmentation.rle;
    case CocoSegmentation::Kind::None:
      break;
  }
  return rle_from_polygons({}, height, width);
}

}  // namespace dl
