// Recall vs number of proposals N (eval/proposal_metrics.h) of a proposal method and of
// a baseline (dense windows, or Selective Search beside the RPN), at IoU 0.5 (thick) and
// 0.7 (thin), on a log10 N axis: as an SVG (plot_svg.h) and as a PNG (the SVG needs a
// browser; a lesson page shows PNGs).
#pragma once
#include <string>

#include "eval/proposal_evaluation.h"
#include "eval/proposal_metrics.h"

namespace dl::cli {

// Writes `svg_path` and the PNG beside it (same name, .png); returns the PNG's path.
// `method` names the method's series ("selective search recall@0.5", ...).
std::string write_recall_plots(const std::string& svg_path, const std::string& svg_title,
                               const std::string& png_title, const std::string& method,
                               const ProposalRecallCurve& curve,
                               const ProposalRecallCurve& windows,
                               const std::string& baseline = "random windows");

// The two curves of an evaluation as a table on stdout: N, Selective Search's recall at
// IoU 0.5 and 0.7, the random windows' at both, then the row "all" (every box).
void print_recall_table(const ProposalEvaluation& e);

}  // namespace dl::cli
