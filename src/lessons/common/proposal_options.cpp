#include "lessons/common/proposal_options.h"

namespace dl::cli {

void add_proposal_flags(Command& sub, ProposalOptions& o) {
  sub.option("--proposals", o.preset, "Selective Search preset (default fast)")
      .one_of({"single", "fast", "quality"});
  sub.option("--max-proposals", o.max_proposals, "best-ranked proposals used per image")
      .range(1, 2000);
  sub.option("--cache-dir", o.cache_dir, "proposal cache directory ('' disables it)");
}

}  // namespace dl::cli
