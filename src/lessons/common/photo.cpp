#include "lessons/common/photo.h"

#include <fmt/core.h>

#include "image/transforms.h"

namespace dl::cli {

Photo load_photo(const std::string& path) {
  Photo p;
  p.image = load_image(path, 3);
  p.file_width = p.image.width;
  p.file_height = p.image.height;
  if (p.image.width > kMaxPhotoSide || p.image.height > kMaxPhotoSide) {
    p.image = shrink_to_fit(p.image, kMaxPhotoSide);
    // On stderr: stdout may be --json.
    fmt::print(stderr, "note: {} is {}x{}, reduced to {}x{} (at most {} px a side) first\n",
               path, p.file_width, p.file_height, p.image.width, p.image.height, kMaxPhotoSide);
  }
  return p;
}

}  // namespace dl::cli
