// The baseline region proposals buy us out of: every window of a dense grid, in random
// order (a box has no score until a classifier looks at it). Lesson 03 compares
// Selective Search's recall with these windows' at the same number of boxes.
#pragma once
#include <vector>

#include "detection/boxes.h"
#include "tensor/rng.h"

namespace dl {

// Sides 16 px up to the image in steps of sqrt(2), aspects h/w 1/2, 1, 2 (area side^2),
// stride a quarter of the side; shuffled with `rng`.
std::vector<Box> dense_windows(int width, int height, Rng& rng);

}  // namespace dl
