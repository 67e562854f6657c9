// Pictures of region proposals (lesson 03): the ranked boxes on an image, the graph
// segmentations they start from, and each object's best proposal; small scenes drawn
// enlarged so that 1-pixel outlines stay visible.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "eval/proposal_metrics.h"
#include "image/image.h"
#include "proposals/graph_segmentation.h"
#include "proposals/selective_search.h"

namespace dl::cli {

// Nearest-neighbour enlargement, so that 1-pixel outlines on a 128x128 scene stay
// visible; boxes are then drawn in zoomed coordinates.
Image zoom_nearest(const Image& img, int zoom);

// Each segment a random colour (from its label, so the picture is reproducible).
Image segments_image(const Segmentation& seg);

// Each (colour space, k) segmentation of `r` (run with `o`) as STEM.segments.SPACE-kK.png,
// enlarged `zoom` times; [{"file", "color_space", "k", "num_segments"}...].
nlohmann::json save_segmentations(const std::string& stem, const SelectiveSearchResult& r,
                                  const SelectiveSearchOptions& o, int zoom);

// The first `top` of the ranked `boxes` on the image enlarged `zoom` times, coloured by
// rank, the best-ranked drawn last (on top).
Image draw_ranked_boxes(const Image& img, const std::vector<Box>& boxes, int top, int zoom);

// Ground truth (green, thick) and, for each object, the best-ranked proposal among the
// first `top` that reaches the object's best IoU, labelled "#rank IoU"; saved to `path`.
void draw_best_proposals(const Image& img, const ProposalImage& pi, int top, int zoom,
                         const std::string& path);

}  // namespace dl::cli
