// The proposal flags every R-CNN-family program takes (proposals/region_proposals.h).
#pragma once

#include "lessons/common/cli.h"
#include "proposals/region_proposals.h"

namespace dl::cli {

// --proposals PRESET, --max-proposals N, --cache-dir DIR.
void add_proposal_flags(Command& sub, ProposalOptions& o);

}  // namespace dl::cli
