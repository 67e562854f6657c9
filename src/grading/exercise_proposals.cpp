// Exercises on region proposals: the graph-segmentation merge criterion
// (Felzenszwalb & Huttenlocher 2004) and the segmentation it drives; selective
// search's similarities and the hierarchical grouping they steer (Uijlings et al.
// 2013, §3.1-3.2).
#include <stdexcept>

#include "grading/exercises.h"
#include "image/image.h"
#include "proposals/graph_segmentation.h"
#include "proposals/selective_search.h"

namespace dl::grading {
using json = nlohmann::json;

namespace {

Component component_from(const json& v, const char* name) {
  Component c;
  c.size = input(v, "size").get<int>();
  c.internal = input(v, "internal").get<float>();
  if (c.size < 1) throw std::invalid_argument(std::string("input ") + name + ": size must be >= 1");
  return c;
}

// {"size": n, "box": [x1, y1, x2, y2], "colour": [...], "texture": [...]}
Region region_from(const json& v, const char* name) {
  Region r;
  r.size = input(v, "size").get<int>();
  const json& b = input(v, "box");
  if (!b.is_array() || b.size() != 4)
    throw std::invalid_argument(std::string("input ") + name + ".box: 4 integers");
  r.x1 = b[0].get<int>(), r.y1 = b[1].get<int>(), r.x2 = b[2].get<int>(), r.y2 = b[3].get<int>();
  r.colour = floats_from_json(input(v, "colour"), "colour");
  r.texture = floats_from_json(input(v, "texture"), "texture");
  return r;
}

json region_to_json(const Region& r) {
  json colour = json::array(), texture = json::array();
  for (float v : r.colour) colour.push_back(number(v));
  for (float v : r.texture) texture.push_back(number(v));
  return {{"size", r.size}, {"box", {r.x1, r.y1, r.x2, r.y2}}, {"colour", colour}, {"texture", texture}};
}

}  // namespace

void add_proposal_exercises(std::vector<Exercise>& out) {
  out.push_back({"graph_segmentation_merge",
                 "Felzenszwalb-Huttenlocher: merge unless Dif(C1,C2) > MInt(C1,C2)",
                 "src/proposals/graph_segmentation.cpp (merge_criterion, threshold_tau)",
                 [](const json& in, const ExerciseContext&) {
                   json merge = json::array(), tau = json::array();
                   for (const json& q : input(in, "queries")) {
                     const Component c1 = component_from(input(q, "c1"), "c1");
                     const Component c2 = component_from(input(q, "c2"), "c2");
                     const float k = input(q, "k").get<float>();
                     merge.push_back(merge_criterion(input(q, "w").get<float>(), c1, c2, k));
                     tau.push_back({number(threshold_tau(c1, k)), number(threshold_tau(c2, k))});
                   }
                   return json{{"merge", merge}, {"tau", tau}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Felzenszwalb and Huttenlocher, section 3: tau(C) = k / |C|; MInt(C1, C2) = "
                          "min(Int(C1) + tau(C1), Int(C2) + tau(C2)); merge unless the edge weight w (the "
                          "difference between the components) is > MInt."});
  out.push_back({"graph_segmentation", "segment a small image: labels in raster order",
                 "src/proposals/graph_segmentation.cpp (segment_graph)", [](const json& in, const ExerciseContext&) {
                   // pixels: rows of [r, g, b] (or grey) values, 0..255.
                   const json& rows = input(in, "pixels");
                   Image img;
                   img.height = static_cast<int>(rows.size());
                   img.width = img.height ? static_cast<int>(rows[0].size()) : 0;
                   img.channels = img.width && rows[0][0].is_array() ? static_cast<int>(rows[0][0].size()) : 1;
                   for (const json& row : rows) {
                     if (static_cast<int>(row.size()) != img.width)
                       throw std::invalid_argument("input pixels: rows of equal length");
                     for (const json& px : row) {
                       const json v = px.is_array() ? px : json::array({px});
                       if (static_cast<int>(v.size()) != img.channels)
                         throw std::invalid_argument("input pixels: same channel count everywhere");
                       for (const json& c : v) img.pixels.push_back(static_cast<uint8_t>(c.get<int>()));
                     }
                   }
                   SegmentationOptions o;
                   o.sigma = in.value("sigma", 0.0f);
                   o.k = input(in, "k").get<float>();
                   o.min_size = in.value("min_size", 0);
                   const Segmentation s = graph_segmentation(img, o);
                   json labels = json::array();
                   for (int y = 0; y < s.height; ++y)
                     labels.push_back(std::vector<int>(s.labels.begin() + y * s.width,
                                                       s.labels.begin() + (y + 1) * s.width));
                   return json{{"num_segments", s.num_segments}, {"labels", labels}};
                 },
                 /*uses*/ {"graph_segmentation_merge"},
                 /*hint*/ "Sort the edges by weight, lowest first; for each edge whose two ends lie in "
                          "different components, join them when merge_criterion holds; finally join the "
                          "components smaller than min_size to a neighbour."});
  out.push_back({"selective_search_similarity",
                 "colour, texture, size and fill similarity of two regions, and their merge",
                 "src/proposals/selective_search.cpp (similarity_colour, similarity_texture, similarity_size, similarity_fill, merge_regions)",
                 [](const json& in, const ExerciseContext&) {
                   const Region a = region_from(input(in, "a"), "a"), b = region_from(input(in, "b"), "b");
                   const int image_size = input(in, "image_size").get<int>();
                   const Strategy st = parse_strategy(in.value("strategy", std::string("C+T+S+F")));
                   return json{{"colour", number(similarity_colour(a, b))},
                               {"texture", number(similarity_texture(a, b))},
                               {"size", number(similarity_size(a, b, image_size))},
                               {"fill", number(similarity_fill(a, b, image_size))},
                               {"total", number(similarity(a, b, image_size, st))},
                               {"merged", region_to_json(merge_regions(a, b))}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Uijlings et al., section 3.2: colour and texture are histogram intersections; "
                          "size = 1 - (|a| + |b|) / image size; fill = 1 - (|bounding box of a and b| - "
                          "|a| - |b|) / image size. merge_regions: histograms averaged weighted by size, "
                          "sizes added, the union of the bounding boxes."});
  out.push_back({"selective_search_grouping",
                 "hierarchical grouping: merge the most similar neighbours until one region is left",
                 "src/proposals/selective_search.cpp (hierarchical_grouping)",
                 [](const json& in, const ExerciseContext&) {
                   std::vector<Region> regions;
                   for (const json& r : input(in, "regions")) regions.push_back(region_from(r, "regions"));
                   std::vector<std::pair<int, int>> pairs;
                   for (const json& p : input(in, "neighbours")) pairs.emplace_back(p[0].get<int>(), p[1].get<int>());
                   const Hierarchy h = hierarchical_grouping(
                       regions, pairs, input(in, "image_size").get<int>(),
                       parse_strategy(in.value("strategy", std::string("C+T+S+F"))));
                   json merged = json::array(), boxes = json::array();
                   for (const auto& [a, b] : h.merged_from) merged.push_back({a, b});
                   for (const Region& r : h.regions) boxes.push_back({r.x1, r.y1, r.x2, r.y2});
                   return json{{"merged_from", merged}, {"boxes", boxes}};
                 },
                 /*uses*/ {"selective_search_similarity"},
                 /*hint*/ "Compute the similarity of every neighbouring pair; repeatedly merge the most "
                          "similar pair into a new region, drop every pair that involves one of the two, "
                          "add the new region's pairs with their neighbours, until one region is left."});
}

}  // namespace dl::grading
