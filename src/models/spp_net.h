// SPP-net for detection (He, Zhang, Ren & Sun, "Spatial Pyramid Pooling in Deep
// Convolutional Networks for Visual Recognition", ECCV 2014, §4). R-CNN's pipeline with
// one change: the convolutional layers run ONCE per image, and every proposal window is
// projected onto the last conv map and max-pooled there by a spatial pyramid into a
// fixed-length vector (src/detection/spp_pool.h).
//
//   image 3 x H x W
//     -> backbone   lesson 00's pretrained convs, frozen: SPP-net fine-tunes only the
//                   fully connected layers (§4.1: "we only fine-tune the fc layers")
//     -> SPP        each window pooled over the paper's levels {6, 3, 2, 1} (§4.1: 50
//                   bins; its maps are 13 x 13 conv5, ours 32 x 32 stride-4 conv2 maps
//                   where objects span 5-15 cells)
//     -> fc6, fc7   linear(hidden) - ReLU - dropout, twice; fine-tuned with a softmax
//                   over K + 1 (cls_score) on R-CNN's windows (models/region_finetuning.h)
//     -> R-CNN's last stages on the fc7 features: per-class linear SVMs with
//        hard-negative mining, ridge box regression, per-class NMS
//        (models/region_svm_head.h)
// Because the convs are frozen their maps are computed once per training image and kept,
// so fine-tuning touches only the pooled vectors.
//
// Multi-scale feature extraction (§4.2, src/detection/scale_choice.h): the image is
// resized by every factor in `scales` and a conv map computed at each; each window is
// pooled from the one scale at which its area is closest to the pretraining input's
// (target_size, lesson 00's 28 x 28 items). Fine-tuning, the SVMs' and regressors'
// features and detection all use the same choice; the scales are stored in the model.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/detection.h"
#include "image/image.h"
#include "models/backbone.h"
#include "models/region_finetuning.h"
#include "models/region_svm_head.h"
#include "nn/config_fields.h"

namespace dl::models {

// Input pixels per conv-map cell (the backbone's two 2x2 poolings); a float as the
// model file's config writes it.
constexpr float kSppStride = kBackboneStride;

struct SppNetConfig {
  static constexpr float kMaxScale = 8;  // largest image scale factor accepted
  int c1 = 16, c2 = 32;               // lesson 00's backbone
  std::vector<int> levels = {6, 3, 2, 1};  // pyramid grids n x n (§4.1)
  int hidden = 256;                   // fc6 / fc7 width = the SVMs' feature dimension
  int num_classes = 11;               // K + 1
  float dropout = 0.25f;
  float feature_scale = 1;            // fc7 features times this (mean L2 norm 20, as R-CNN)
  // §4.2: image scale factors (ascending) and the side of the pretraining input whose
  // area each window's chosen scale brings it closest to. Models saved before the key
  // existed are single-scale.
  std::vector<float> scales = {1.0f};
  float target_size = 28;
  int bins() const {
    int b = 0;
    for (int n : levels) b += n * n;
    return b;
  }
  int spp_dim() const { return c2 * bins(); }
  int classes() const { return num_classes - 1; }
  // "" when `scales` can be a model's (1 to 16 factors in (0, kMaxScale]), otherwise
  // what is wrong with them.
  static std::string check_scales(const std::vector<float>& scales);
  // The fields above, declared once with their ranges (nn/config_fields.h).
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static SppNetConfig from_json(const std::string& text);  // throws std::invalid_argument
};

// Frozen convs + SPP + fc6/fc7/softmax + SVMs + regressors, in one checkpoint.
class SppNet : public Module {
 public:
  SppNet(const SppNetConfig& c, Rng& rng);
  // The conv map of one image, [1, c2, H/4, W/4]: frozen, always in eval mode.
  Tensor conv_map(const Image& img);
  // Pooled vectors [n, hidden] -> fc7 after its ReLU (dropout active in train mode).
  Var fc7_of(const Var& spp);
  Var forward(const Var& spp) override { return (*cls_score)(fc7_of(spp)); }
  std::string name() const override { return "SppNet"; }
  // The fc parameters: the only ones fine-tuned.
  std::vector<Var> fc_parameters() const;

  SppNetConfig config;
  std::shared_ptr<Sequential> backbone;
  std::shared_ptr<Linear> fc6, fc7, cls_score;
  std::shared_ptr<Dropout> drop6, drop7;
  RegionSvmHead head;
};

// One image's conv maps, one per scale of the model (§4.2). sx, sy: the resized
// image's size over the original's, per axis (the exact factor after rounding to whole
// pixels), so a window maps to the scale's map with stride kSppStride / sx image pixels.
struct ConvPyramid {
  std::vector<Tensor> maps;  // [1, c2, h_s, w_s]
  std::vector<float> sx, sy;
};

// conv maps at every scale; seconds per scale added to `scale_seconds` if given.
ConvPyramid conv_pyramid(SppNet& m, const Image& img,
                         std::vector<double>* scale_seconds = nullptr);
// Every image's (training: the convs never change, §4.1).
std::vector<ConvPyramid> conv_pyramids(SppNet& m, const DetectionDataset& ds);

// SPP vectors [n, c2 * bins] of `boxes`: each window pooled on the map of its chosen
// scale (choose_scale), projected with that map's stride. With the one scale 1 every
// window is pooled on the image's own map, as before multi-scale existed.
Tensor spp_vectors(const SppNet& m, const ConvPyramid& p, const std::vector<Box>& boxes,
                   std::vector<int64_t>* windows_per_scale = nullptr);

// Seconds spent in each stage of detect (and the windows each scale served), added to.
struct SppNetTimes {
  double conv = 0, spp = 0, fc = 0;
  std::vector<double> conv_scale;        // conv seconds per scale
  std::vector<int64_t> windows_scale;    // windows pooled at each scale
  RegionStageTimes head;
};

// Region features [n, hidden] (fc7, scaled): conv once per scale (unless the image's
// pyramid `pyr` is given), SPP per window, fc in one batch.
Tensor region_features(SppNet& m, const Image& img, const ConvPyramid* pyr,
                       const std::vector<Box>& boxes, SppNetTimes* t = nullptr);

// A fine-tuning batch of SPP vectors of `fg` foreground and `bg` background windows
// drawn with rng from the precomputed conv maps. Draws first, pooling in parallel:
// thread-independent.
WindowBatch spp_window_batch(const SppNet& m, const std::vector<ConvPyramid>& maps,
                             const Labelled& w, int fg, int bg, Rng rng);

// One image's detections from its proposals: conv maps, SPP, fc7, then the SVM head.
std::vector<Detection> detect(SppNet& m, const Image& img, const std::vector<Box>& proposals,
                              const RegionDetectOptions& o, SppNetTimes* t = nullptr);

}  // namespace dl::models
