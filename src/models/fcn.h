// Semantic segmentation by a fully convolutional network (Long, Shelhamer & Darrell,
// "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015): label every
// pixel, no objects. Down-sampling makes the network cheap and wide-seeing; up-sampling
// brings its coarse, semantic map back to the image's pixels. The lecture's four ways
// up (--upsample):
//   nearest     each value copied into its 2 x 2 block (unpooling, nearest neighbour)
//   bilinear    fixed bilinear interpolation (FCN §3.3)
//   max-unpool  each value put back where its max pool's maximum came from, zeros
//               elsewhere (max unpooling, remembering the pooling's switches;
//               SegNet, Badrinarayanan et al. 2017, §3)
//   transpose   a learned 4 x 4 transposed convolution, stride 2 (learnable
//               upsampling; FCN §3.3's backwards convolution), started as bilinear
// and FCN's skip connections (§4.2, --skips): the coarse map is refined by adding the
// finer encoder maps of the same resolution, each through a zero-started 1 x 1 conv
// (as FCN's new score layers on pool3 / pool4 start at zero).
//
//   image 128 x 128, normalised as the backbone reads it (models/backbone.h)
//     encoder  [conv3x3(c1)-BN-ReLU-pool] x 2, c2 channels      the backbone  stride 4
//              pool3 - conv3x3(c3)-BN-ReLU                                   stride 8
//              pool4 - conv3x3(c4)-BN-ReLU - conv3x3(c4)-BN-ReLU ("centre")  stride 16
//     decoder  conv3x3(c3)-BN-ReLU - up - (+ 1x1(stride-8 map))              stride 8
//              conv3x3(c2)-BN-ReLU - up - (+ 1x1(backbone map))              stride 4
//              conv3x3(K): the scores, then fixed bilinear x 4 to the pixels
//   output [N, K, 128, 128]: K = background + the classes; a per-pixel softmax.
// The new stages pool first and then convolve (YOLO's neck does the same, lesson 06):
// a quarter of the cost of convolving at the finer map. Every up-sampling doubles the
// map and keeps its channels; each decoder conv leaves the channels that the matching
// pool pooled, so max unpooling can use that pool's switches -- the decoder mirrors
// the encoder (SegNet's layout) and the four choices differ in the up-sampling alone.
// The last x 4 is fixed bilinear, as FCN's last up-sampling is (§4.3: the final
// deconvolution filters are fixed to bilinear, the intermediate ones start as bilinear
// and are learned); a learned decoder down to stride 1 would cost more than the whole
// encoder.
// The transposed convolutions are per channel (groups = channels), as FCN's are (its
// Caffe layers upsample each class's score map by itself).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/segmentation_dataset.h"
#include "image/image.h"
#include "models/backbone.h"
#include "nn/config_fields.h"
#include "tensor/rng.h"

namespace dl::models {

struct FcnConfig {
  int c1 = 16, c2 = 32;       // backbone channels (lesson 00's)
  int c3 = 64, c4 = 128;      // the two further encoder stages
  int num_classes = 11;       // K: background + 10 Fashion-MNIST classes
  int input_size = 128;       // images are resized to this square (a multiple of 16)
  std::string upsample = "transpose";  // nearest | bilinear | max-unpool | transpose
  bool skips = true;          // FCN §4.2's skip connections
  int classes() const { return num_classes - 1; }  // object classes, background excluded
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static FcnConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<FcnConfig>(json);
  }
};

constexpr int kFcnStride = 16;  // the coarsest map: four 2 x 2 poolings

// ---- up-sampling by 2 ------------------------------------------------------------------
// Nearest neighbour: [N, C, H, W] -> [N, C, 2H, 2W], out(y, x) = in(y / 2, x / 2).
Var upsample_nearest2x(const Var& x);
// A per-channel (groups = channels) 4 x 4 transposed-convolution kernel, stride 2,
// padding 1, that performs bilinear up-sampling by 2 (FCN §3.3: the deconvolution
// filters start as bilinear interpolation): the outer product of (1/4, 3/4, 3/4, 1/4)
// with itself for every channel. [channels, 1, 4, 4].
Tensor bilinear_transpose_kernel(int channels);

// ---- the loss -----------------------------------------------------------------------------
// FCN's per-pixel multinomial logistic loss: softmax cross-entropy of scores
// [N, K, H, W] against labels [N, H, W] (class indices as floats), averaged over the
// pixels; pixels labelled kIgnoreLabel are left out. background_weight < 1 counts the
// background pixels less (a weighted mean, torch's cross_entropy weight; 1: plain FCN).
Var fcn_loss(const Var& scores, const Tensor& labels, float background_weight = 1.0f);

// A training batch: images resized to input_size (bilinear) and normalised, labels
// resized with nearest neighbour (a label is not a number to blend); each mirrored with
// probability 1/2 when `flip`.
struct FcnBatch {
  Tensor images;  // [N, 3, S, S]
  Tensor labels;  // [N, S, S]
};
FcnBatch make_fcn_batch(const SegmentationDataset& ds, const std::vector<int64_t>& idx,
                        const FcnConfig& cfg, bool flip, Rng& rng);

// Labels resized to width x height by nearest neighbour (pixel centres).
Image resize_labels(const Image& labels, int width, int height);

struct FcnStageTimes {
  double encoder = 0, decoder = 0, labels = 0;  // labels: resize to the image + argmax
  double total() const { return encoder + decoder + labels; }
};

class Fcn : public Module {
 public:
  Fcn(const FcnConfig& cfg, Rng& rng);
  // [N, 3, S, S] normalised images -> scores [N, K, S, S].
  Var forward(const Var& x) override;
  std::string name() const override { return "Fcn"; }

  Tensor preprocess(const Image& img) const;  // resized to input_size, normalised
  // Per-pixel class indices at the image's own size (1 channel): the stride-4 scores
  // resized bilinearly to width x height, then the argmax over classes (ties: the lower).
  Image predict(const Image& img, FcnStageTimes* times = nullptr);

  FcnConfig config;
  std::shared_ptr<Sequential> backbone, stage3, stage4, centre;
  std::vector<std::shared_ptr<Sequential>> decoder;  // at stride 16, 8
  std::vector<std::shared_ptr<Conv2d>> skip;         // 1 x 1 from the stride-8 and -4 maps
  std::shared_ptr<Conv2d> classifier;
  std::vector<Var> transpose_weight, transpose_bias;  // "transpose": from stride 16, 8

 private:
  struct Encoded;
  Encoded encode(const Var& x);
  Var decode(const Encoded& e);  // the scores at stride 4
  Var up(int level, const Var& x, const Encoded& e);  // level 0 undoes pool4, 1 pool3
};

}  // namespace dl::models
