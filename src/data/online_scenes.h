// Training scenes generated on the fly instead of read from disk. A fixed set of
// 12,000 single-object scenes is seen 20 times in lesson 01's training and the network
// learns those scenes, not the task (84 % training vs 70 % test accuracy). Drawing a
// fresh scene for every training step -- a new Fashion-MNIST item from the 60,000 of
// the train split, a new size, place, tint and background -- removes that gap: no
// scene is ever seen twice. The test split stays the fixed files on disk.
//
// Determinism: online scene k is generate_scene(options, sources, k), a pure function
// of (options, k), so a batch can be built on any number of threads with bit-identical
// results, and a run is reproduced by its seed.
#pragma once
#include <cstdint>

#include "data/detection_dataset.h"
#include "data/scenes.h"

namespace dl {

struct OnlineScenes {
  SceneOptions options;  // the generator's options (split, scales, single, seed)
  SceneSources sources;  // items of options.split + background textures
};

// Loads the Fashion-MNIST items of options.split and the textures; throws FileError
// naming the file when they are missing, std::invalid_argument for bad options.
OnlineScenes make_online_scenes(const SceneOptions& options,
                                const std::string& fashion_dir = kFashionMnistDir,
                                const std::string& texture_dir = kTextureDir);

// Scene `index` as a DetectionItem (image, tight boxes [x, x + w) as in the COCO files
// written by datagen, 0-based labels), i.e. what load_detection_dataset would give for
// the same scene written to disk.
DetectionItem online_scene(const OnlineScenes& set, int64_t index);

}  // namespace dl
