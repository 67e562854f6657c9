// The shared backbone every lesson after lesson 00 builds on: lesson 00's classifier's
// features, [conv3x3 - BN - ReLU - maxpool2] x 2, output stride 4, reading images
// normalised with Fashion-MNIST's statistics (the data it was trained on). Heads plug
// into its map: the localizer's and DeepPose's fc layers, Fast R-CNN's RoI pooling,
// SPP-net's pyramid pooling (the sliding-window classifier keeps lesson 00's layers but
// without padding, so that a crop's output is one cell: crop_classifier.h).
//
// Transfer learning (the lecture's "ImageNet pretraining"): load_grey_backbone copies
// a `classify` model's backbone into any model whose layers are named "backbone.*"
// (or "PART.backbone.*" inside a composed model).
#pragma once
#include <memory>
#include <string>

#include "image/image.h"
#include "nn/config_fields.h"
#include "nn/layers.h"
#include "tensor/rng.h"

namespace dl::models {

// Models are built from nn's layers, called by their plain names here.
using namespace dl::nn;

constexpr int kBackboneStride = 4;  // input pixels per feature-map cell (two 2x2 poolings)

// [N, in_channels, H, W] -> [N, c2, H/4, W/4]. Parameter names "0.weight", "1.weight",
// "1.running_mean", "4.weight", ... (what load_grey_backbone looks for under "backbone.").
std::shared_ptr<Sequential> make_backbone(int in_channels, int c1, int c2, Rng& rng);
// The backbone's two widths as the config of a model built on it declares them
// ("c1", "c2": 1..4096 each), in its fields() list (nn/config_fields.h).
void backbone_fields(nn::ConfigFields& f, int& c1, int& c2);

// An RGB image as the backbone reads it: [3, H, W], (x / 255 - mean) / std with
// Fashion-MNIST's mean and std on every channel; `flip` mirrors it left-right.
Tensor backbone_input(const Image& img, bool flip = false);
// The same for a network with a fixed square input: the image resized (bilinear) to
// size x size unless it already is, then normalised [3, size, size].
Tensor backbone_input_resized(const Image& img, int size);
// Throws ShapeError unless x is a batch of such inputs, [N, 3, size, size]; `who` names
// the network in the message.
void check_resized_input(const Var& x, int size, const std::string& who);

// Copies a `classify` checkpoint's backbone (grey, 1 input channel) into `model`'s
// backbone (RGB). The first convolution's kernel w is spread over the three colour
// channels as w/3 each, so on a grey image (R = G = B) every filter responds exactly as
// it did in the classifier. Returns the number of tensors loaded; throws FileError when
// the file is not a classify model with matching channel counts.
int load_grey_backbone(const std::string& path, Module& model);

}  // namespace dl::models
