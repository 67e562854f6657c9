// The pictures given to `predict` of the programs that work at the image's own
// resolution: selective_search, the region detectors built on it (rcnn, spp_net,
// fast_rcnn) and sliding_window. Their time and memory grow with the pixels --
// selective search needs ~350 bytes per pixel (3.2 GB for a 3000 x 3000 photo) and minutes
// -- while the lessons' scenes are 128 px and their objects 16-112 px. So a photo whose
// longer side exceeds kMaxPhotoSide is reduced to that size before anything else
// (shrink_to_fit, a box filter), and its detections refer to the reduced picture, whose
// size the JSON output gives beside the file's ("resized_from"). Files beyond
// load_image's limit (8192 x 8192 pixels) are refused with one line. The programs that
// resize every input to their network's size anyway (classify, classify_localize,
// deeppose) take any photo load_image accepts.
#pragma once
#include <string>

#include "image/image.h"

namespace dl::cli {

// 1024 px: about 0.4 GB and well under a minute of selective search on 2 cores.
constexpr int kMaxPhotoSide = 1024;

struct Photo {
  Image image;                       // at most kMaxPhotoSide on its longer side
  int file_width = 0, file_height = 0;  // as decoded from the file
  bool reduced() const { return image.width != file_width || image.height != file_height; }
};

// load_image(path, 3), then shrink_to_fit(kMaxPhotoSide) with a note on stderr.
Photo load_photo(const std::string& path);

}  // namespace dl::cli
