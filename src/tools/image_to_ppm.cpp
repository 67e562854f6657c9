// image_to_ppm: writes images as binary PPM (P6, RGB), decoded exactly as detlab decodes
// them (stb_image). Reference implementations that cannot decode JPEG themselves, or
// would decode it slightly differently (JPEG decoders may differ by a grey level), read
// these, so a golden dump and detlab start from the same pixels
// (tools/golden/faceapi/make_faceapi_golden.mjs).
//   bin/image_to_ppm IMAGE... --out DIR     DIR/<name>.ppm per image
#include <fmt/core.h>

#include <filesystem>

#include "image/image.h"
#include "lessons/common/cli.h"
#include "util/files.h"

using namespace dl;

int main(int argc, char** argv) {
  cli::CommandLine app{"image_to_ppm: images -> binary PPM as detlab decodes them"};
  std::vector<std::string> images;
  std::string out;
  app.option("images", images, "PNG/JPEG/BMP files").required();
  app.option("--out", out, "output directory").required();
  if (int rc = cli::parse(app, argc, argv); rc >= 0) return rc;
  return cli::run_guarded([&] {
    for (const std::string& path : images) {
      const Image img = load_image(path, 3);
      std::string bytes = fmt::format("P6\n{} {}\n255\n", img.width, img.height);
      bytes.append(img.pixels.begin(), img.pixels.end());
      write_file_atomic((std::filesystem::path(out) / std::filesystem::path(path).stem()).string() + ".ppm",
                        bytes);
    }
    return 0;
  });
}
