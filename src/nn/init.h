// Weight initialisation. Both schemes pick the scale that keeps activation variance
// roughly constant from layer to layer:
//  Xavier/Glorot (Glorot & Bengio 2010, eq. 16): Var(w) = 2 / (fan_in + fan_out),
//    for tanh/sigmoid-like (symmetric, linear near 0) activations;
//  Kaiming/He (He et al. 2015, "Delving deep into rectifiers", eq. 10):
//    Var(w) = gain^2 / fan, gain = sqrt(2 / (1 + a^2)) for (leaky) ReLU with slope a.
// Uniform variants use U(-b, b) with b = sqrt(3) * std. fan_in/fan_out follow
// PyTorch: dim 1 / dim 0 of the weight times the receptive field (kh * kw).
#pragma once
#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace dl::nn {

enum class FanMode { FanIn, FanOut };

void compute_fans(const Shape& weight_shape, int64_t& fan_in, int64_t& fan_out);
float relu_gain(float negative_slope = 0.0f);  // sqrt(2 / (1 + a^2))

void kaiming_uniform_(Tensor& w, Rng& rng, float negative_slope = 0.0f,
                      FanMode mode = FanMode::FanIn);
void kaiming_normal_(Tensor& w, Rng& rng, float negative_slope = 0.0f,
                     FanMode mode = FanMode::FanIn);
void xavier_uniform_(Tensor& w, Rng& rng, float gain = 1.0f);
void xavier_normal_(Tensor& w, Rng& rng, float gain = 1.0f);
void uniform_(Tensor& w, Rng& rng, float lo, float hi);

}  // namespace dl::nn
