// Synthetic detection scenes: Fashion-MNIST items (Xiao et al. 2017) scaled, tinted
// and pasted onto cluttered backgrounds, with exact boxes, classes and instance masks
// taken from the pasted pixels. They stand in for PASCAL VOC / COCO in the lessons:
// the same annotations (COCO JSON, RLE masks), but small enough to train on a laptop.
//
// Determinism: scene i is a pure function of (options, item split, textures, i); it
// draws only from Rng(seed).fork(i), so scenes can be generated in any order and on
// any number of threads with bit-identical results.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/coco.h"
#include "data/fashion_mnist.h"
#include "data/rle.h"
#include "image/image.h"
#include "tensor/rng.h"

namespace dl {

constexpr const char* kTextureDir = "data/samples/skimage";

struct SceneOptions {
  int width = 128, height = 128;
  int64_t count = 100;
  int min_objects = 1, max_objects = 4;
  // Side of the pasted 28x28 item square, in pixels (the tight box is a bit smaller:
  // Fashion-MNIST items have a margin).
  float min_scale = 16.0f, max_scale = 64.0f;
  // Upper bound on the IoU between the tight boxes of any two placed objects.
  float max_overlap = 0.3f;
  bool single = false;          // exactly one object per scene
  std::string split = "train";  // which Fashion-MNIST split the items come from
  uint64_t seed = 1;
};

// Throws std::invalid_argument naming the offending option.
void validate(const SceneOptions& o);

// An item pixel (after scaling, in [0, 1]) belongs to the object's mask above this.
constexpr float kMaskThreshold = 0.15f;
// A placement is refused if it would hide more than half of an earlier object, so no
// annotated object ends up nearly invisible.
constexpr float kMinVisibleFraction = 0.5f;

struct SceneObject {
  int category_id = 0;  // 1..10: Fashion-MNIST label + 1
  int64_t item = 0;     // index into the split's items
  int x = 0, y = 0;     // top-left corner of the pasted item square
  int size = 0;         // side of the pasted item square
  bool flipped = false; // mirrored left-right
  Mask mask;            // visible pixels (image-sized), after occlusion by later objects
  int64_t area = 0;     // number of mask pixels
  std::array<double, 4> bbox{};  // tight box [x, y, w, h] of the mask, as COCO's toBbox
};

struct Scene {
  Image image;                      // RGB
  std::vector<SceneObject> objects; // in paint order: later ones occlude earlier ones
};

// The inputs a scene draws from: the items of one Fashion-MNIST split and grey
// texture photographs for backgrounds.
struct SceneSources {
  FashionMnist items;
  std::vector<Image> textures;  // 1-channel
};
// brick, grass and gravel from `texture_dir` (Debian's python3-skimage samples).
std::vector<Image> load_textures(const std::string& texture_dir = kTextureDir);
// kTextureDir is relative to the repository root; a program run from elsewhere (the
// tests run in temp dirs) finds it next to its executable, bin/../data/samples/skimage.
// Returns `dir` itself when it exists, is absolute or is not found beside the program.
std::string find_texture_dir(const std::string& dir);
SceneSources load_scene_sources(const std::string& split,
                                const std::string& fashion_dir = kFashionMnistDir,
                                const std::string& texture_dir = kTextureDir);

// A varied background: smooth noise, a linear gradient, a recoloured texture crop or
// a flat colour, then distractor clutter (discs, bars, rectangles).
Image random_background(int width, int height, const std::vector<Image>& textures, Rng& rng);

Scene generate_scene(const SceneOptions& options, const SceneSources& sources, int64_t index);

// Semantic segmentation: pixel = category id of the object it belongs to, 0 background.
Image semantic_mask(const Scene& scene);

// The Fashion-MNIST classes as COCO categories 1..10.
std::vector<CocoCategory> scene_categories();
// COCO annotations of one scene (ids left 0; segmentation as compressed RLE).
std::vector<CocoAnnotation> scene_annotations(const Scene& scene, int64_t image_id);


}  // namespace dl
