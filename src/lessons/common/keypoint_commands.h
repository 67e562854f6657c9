// `bin/mask_rcnn ... --keypoints`: Mask R-CNN "also does pose" (He et al. 2017, §5) --
// the keypoint branch (models/keypoint_rcnn.h) trained and tested on lesson 02's pose
// figures, so that its PCK stands beside DeepPose's on the same test split.
//   train --keypoints     from lesson 05's faster_rcnn model (backbone, neck, fc6/fc7 and
//                         RPN; the class and box layers new for one class, "person"),
//                         or --no-init from lesson 00's backbone; joint fine-tuning with
//                         the five losses
//   eval --keypoints      PCK@0.2 per joint (bin/deeppose eval's table, src/eval/) of each
//                         test figure's best detection, and the person boxes' AP
//   predict --keypoints IMAGE...   the best person's box and skeleton drawn, joints as JSON
//   bench --keypoints     seconds per image by stage
// mask_rcnn.cpp registers the flags and hands these commands the options it shares with
// the mask branch (--init, --no-init, --pretrained, --limit, --val-images, --no-flip,
// --rois, --threshold, --nms, --post-nms).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lessons/common/cli.h"
#include "lessons/common/detector_program.h"
#include "models/keypoint_rcnn.h"

namespace dl::cli {

struct KeypointFlags {
  bool on = false;  // --keypoints
  models::KeypointRcnnTrainingOptions train;
  models::KeypointHeadConfig head;
};

// --keypoints on the four commands; --keypoint-rois, --keypoint-weight,
// --keypoint-channels, --keypoint-convs on train.
void add_keypoint_flags(Command& train, Command& eval, Command& predict, Command& bench,
                        KeypointFlags& k);

// What train takes from mask_rcnn's own flags.
struct KeypointStart {
  std::string init;  // a faster_rcnn model; "" with --no-init
  DetectorTrainFlags flags;
  bool flip = true;
  int images_per_batch = 2;
  int rois_per_image = 64;
};

int keypoint_train(CommonArgs a, const KeypointFlags& k, const KeypointStart& s);
int keypoint_eval(const CommonArgs& a, const models::FasterRcnnDetectOptions& d, int64_t limit);
int keypoint_predict(const CommonArgs& a, const models::FasterRcnnDetectOptions& d,
                     const std::vector<std::string>& images);
int keypoint_bench(const CommonArgs& a, const models::FasterRcnnDetectOptions& d,
                   const std::vector<std::string>& images, int64_t limit);

}  // namespace dl::cli
