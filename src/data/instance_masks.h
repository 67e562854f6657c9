// The ground-truth instance masks of a detection dataset, one per box: what Mask R-CNN's
// mask branch learns from (He et al. 2017, §3). The scenes store every object's mask as
// COCO RLE (data/rle.h); polygons are rasterised like COCO's annToRLE.
#pragma once
#include <vector>

#include "data/detection_dataset.h"
#include "data/rle.h"

namespace dl {

// masks[i][j] is item i's box j's mask (image-sized, row-major 0/1), in the order
// load_detection_dataset lists the boxes (the file's annotations, crowd excluded).
// Throws FileError naming DIR/annotations.json when an object has no segmentation or a
// mask of another size than its image.
std::vector<std::vector<Mask>> load_instance_masks(const DetectionDataset& ds);

}  // namespace dl
