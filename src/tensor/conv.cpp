// Convolution as matrix multiplication (Chellapilla, Puri & Simard 2006; Caffe's
// im2col): copy every receptive field of one image into a column of a matrix `col`
// [Cg*kh*kw, OH*OW], and the convolution of one group becomes one GEMM,
//   y_g [Kg, OH*OW] = w_g [Kg, Cg*kh*kw] x col.
// The backward passes are the two other products of the same matrices:
//   dcol = w_g^T dy_g  (then col2im scatters dcol back onto the image: dx),
//   dw_g = sum over images of dy_g col^T.
//
// Threads: with at least as many images as threads, each thread takes whole images
// (its GEMMs then run single-threaded inside: OpenMP does not nest by default), else
// images go one by one and the GEMM itself is parallel. Both give identical bits,
// because the GEMM computes every element with a fixed summation order whatever the
// thread count (gemm.h). The weight gradient sums over images in fixed chunks that do
// not depend on the thread count, then adds the chunks in order.
#include "tensor/conv.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "tensor/gemm.h"

namespace dl {

ConvGeometry conv2d_geometry(const Shape& x, const Shape& w, const Conv2dParams& p,
                             const char* op) {
  check_shape(x.size() == 4, op, "input must be [N, C, H, W], got " + shape_str(x));
  check_shape(w.size() == 4, op, "weight must be [K, C/groups, kh, kw], got " + shape_str(w));
  check_shape(p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 && p.dilation_w > 0 &&
                  p.pad_h >= 0 && p.pad_w >= 0 && p.groups > 0,
              op, "stride and dilation must be >= 1, padding >= 0, groups >= 1");
  ConvGeometry g{x[0], x[1], x[2], x[3], w[0], w[2], w[3], 0, 0, p};
  check_shape(g.C % p.groups == 0 && g.K % p.groups == 0, op,
              "channels in (" + std::to_string(g.C) + ") and out (" + std::to_string(g.K) +
                  ") must both be divisible by groups (" + std::to_string(p.groups) + ")");
  check_shape(w[1] == g.Cg(), op,
              "weight " + shape_str(w) + " expects " + std::to_string(w[1] * p.groups) +
                  " input channels, input " + shape_str(x) + " has " + std::to_string(g.C));
  check_shape(g.kh > 0 && g.kw > 0 && g.N > 0 && g.C > 0 && g.K > 0, op,
              "empty input or weight: " + shape_str(x) + ", " + shape_str(w));
  const int64_t span_h = static_cast<int64_t>(p.dilation_h) * (g.kh - 1) + 1;
  const int64_t span_w = static_cast<int64_t>(p.dilation_w) * (g.kw - 1) + 1;
  check_shape(g.H + 2 * p.pad_h >= span_h && g.W + 2 * p.pad_w >= span_w, op,
              "kernel (dilated extent " + std::to_string(span_h) + "x" + std::to_string(span_w) +
                  ") is larger than the padded input " + shape_str(x));
  g.OH = (g.H + 2 * p.pad_h - span_h) / p.stride_h + 1;
  g.OW = (g.W + 2 * p.pad_w - span_w) / p.stride_w + 1;
  return g;
}

namespace {

// A 1x1 kernel with stride 1 and no padding reads each pixel once, in order: the
// image planes already are the `col` matrix.
bool is_pointwise(const ConvGeometry& g) {
  const Conv2dParams& p = g.p;
  return g.kh == 1 && g.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 &&
         p.pad_w == 0;
}

// Output columns [lo, hi) whose input column ox*s - p + t*d lies inside [0, size); the
// others read zero padding. Computing the range once per kernel tap keeps the inner
// loops free of bounds checks (and a plain copy when the stride is 1).
struct Span {
  int64_t lo, hi;
};
Span valid_outputs(int64_t t, int stride, int pad, int dilation, int64_t size, int64_t out) {
  const int64_t first = pad - t * dilation;  // ox * stride >= first
  const int64_t last = size - 1 + first;     // ox * stride <= last
  int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  int64_t hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, out);
  hi = std::max(lo, std::min(hi, out));
  return {lo, hi};
}

// col[(c*kh + i)*kw + j][oy*OW + ox] = x[c0 + c][oy*s - p + i*d][ox*s - p + j*d] or 0.
void im2col(const float* img, const ConvGeometry& g, int64_t c0, float* col) {
  const Conv2dParams& p = g.p;
  for (int64_t c = 0; c < g.Cg(); ++c) {
    const float* plane = img + (c0 + c) * g.H * g.W;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* row = col + ((c * g.kh + i) * g.kw + j) * g.OH * g.OW;
        const Span sx = valid_outputs(j, p.stride_w, p.pad_w, p.dilation_w, g.W, g.OW);
        const int64_t x0 = sx.lo * p.stride_w - p.pad_w + j * p.dilation_w;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          float* r = row + oy * g.OW;
          const int64_t iy = oy * p.stride_h - p.pad_h + i * p.dilation_h;
          if (iy < 0 || iy >= g.H) {
            std::fill(r, r + g.OW, 0.0f);
            continue;
          }
          std::fill(r, r + sx.lo, 0.0f);
          std::fill(r + sx.hi, r + g.OW, 0.0f);
          if (sx.hi == sx.lo) continue;  // this tap reads only padding
          const float* src = plane + iy * g.W + x0;
          if (p.stride_w == 1)
            std::copy(src, src + (sx.hi - sx.lo), r + sx.lo);
          else
            for (int64_t ox = sx.lo; ox < sx.hi; ++ox) r[ox] = src[(ox - sx.lo) * p.stride_w];
        }
      }
  }
}

// The adjoint of im2col: adds every column entry back onto the pixel it was read from.
void col2im(const float* col, const ConvGeometry& g, int64_t c0, float* img) {
  const Conv2dParams& p = g.p;
  for (int64_t c = 0; c < g.Cg(); ++c) {
    float* plane = img + (c0 + c) * g.H * g.W;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const float* row = col + ((c * g.kh + i) * g.kw + j) * g.OH * g.OW;
        const Span sx = valid_outputs(j, p.stride_w, p.pad_w, p.dilation_w, g.W, g.OW);
        const int64_t x0 = sx.lo * p.stride_w - p.pad_w + j * p.dilation_w;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          const int64_t iy = oy * p.stride_h - p.pad_h + i * p.dilation_h;
          if (iy < 0 || iy >= g.H || sx.hi == sx.lo) continue;
          const float* r = row + oy * g.OW;
          float* dst = plane + iy * g.W + x0;
          for (int64_t ox = sx.lo; ox < sx.hi; ++ox) dst[(ox - sx.lo) * p.stride_w] += r[ox];
        }
      }
  }
}

// Runs body(n, col_buffer) for every image n: in parallel over images when there are
// enough of them, else sequentially (the GEMMs inside are then the parallel part).
// The column buffer is per thread and kept between calls: im2col writes every entry
// (padding as explicit zeros), so it needs no clearing, and a training step no longer
// allocates and zeroes megabytes of fresh pages per convolution.
template <class Body>
void for_each_image(int64_t N, int64_t col_size, Body body) {
  const bool by_image = N >= omp_get_max_threads() && !omp_in_parallel();
#pragma omp parallel if (by_image)
  {
    thread_local std::unique_ptr<float[]> col;
    thread_local int64_t capacity = 0;
    if (capacity < col_size) {
      col.reset(new float[static_cast<size_t>(col_size)]);  // uninitialised
      capacity = col_size;
    }
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) body(n, col.get());
  }
}

// The depthwise convolution of MobileNet (Howard et al. 2017, sec. 3.1): one kxk filter
// per channel (groups = C = K). As a GEMM each group would be a 1 x k*k by k*k x OH*OW
// product, all copying and no arithmetic; directly, each output plane is the bias plus
// k*k shifted, scaled rows of its own input plane, added tap by tap in (i, j) order
// whatever the thread count (threads take whole planes).
void depthwise_forward(const float* px, const float* pw, const Tensor& b, const ConvGeometry& g,
                       float* py) {
  const Conv2dParams& p = g.p;
  const int64_t planes = g.N * g.C, hw = g.H * g.W, ohw = g.OH * g.OW;
#pragma omp parallel for schedule(static) if (planes > 1 && !omp_in_parallel())
  for (int64_t nc = 0; nc < planes; ++nc) {
    const int64_t c = nc % g.C;
    const float* in = px + nc * hw;
    float* out = py + nc * ohw;
    std::fill(out, out + ohw, b.defined() ? b[c] : 0.0f);
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const float wij = pw[(c * g.kh + i) * g.kw + j];
        const Span sx = valid_outputs(j, p.stride_w, p.pad_w, p.dilation_w, g.W, g.OW);
        if (sx.hi == sx.lo) continue;
        const int64_t x0 = sx.lo * p.stride_w - p.pad_w + j * p.dilation_w;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          const int64_t iy = oy * p.stride_h - p.pad_h + i * p.dilation_h;
          if (iy < 0 || iy >= g.H) continue;
          const float* src = in + iy * g.W + x0;
          float* r = out + oy * g.OW;
          if (p.stride_w == 1)
            for (int64_t ox = sx.lo; ox < sx.hi; ++ox) r[ox] += wij * src[ox - sx.lo];
          else
            for (int64_t ox = sx.lo; ox < sx.hi; ++ox) r[ox] += wij * src[(ox - sx.lo) * p.stride_w];
        }
      }
  }
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  const ConvGeometry g = conv2d_geometry(x.shape(), w.shape(), p, "conv2d");
  if (b.defined())
    check_shape(b.dim() == 1 && b.size(0) == g.K, "conv2d",
                "bias " + b.shape_str() + " does not match " + std::to_string(g.K) +
                    " output channels");
  // Every element is written: the bias fill, or the GEMM with beta = 0 (which ignores
  // what C held).
  Tensor y = Tensor::uninitialized({g.N, g.K, g.OH, g.OW});
  const int64_t ohw = g.OH * g.OW, ckk = g.Cg() * g.kh * g.kw;
  const bool pointwise = is_pointwise(g);
  const float* px = x.data();
  const float* pw = w.data();
  float* py = y.data();
  if (p.groups == g.C && g.K == g.C) {
    depthwise_forward(px, pw, b, g, py);
    return y;
  }
  for_each_image(g.N, pointwise ? 0 : ckk * ohw, [&](int64_t n, float* col) {
    const float* img = px + n * g.C * g.H * g.W;
    float* out = py + n * g.K * ohw;
    if (b.defined())
      for (int64_t k = 0; k < g.K; ++k) std::fill(out + k * ohw, out + (k + 1) * ohw, b[k]);
    for (int64_t grp = 0; grp < p.groups; ++grp) {
      const float* cols = img + grp * g.Cg() * g.H * g.W;
      if (!pointwise) {
        im2col(img, g, grp * g.Cg(), col);
        cols = col;
      }
      gemm(false, false, g.Kg(), ohw, ckk, 1.0f, pw + grp * g.Kg() * ckk, ckk, cols, ohw,
           b.defined() ? 1.0f : 0.0f, out + grp * g.Kg() * ohw, ohw);
    }
  });
  return y;
}

Tensor conv2d_backward_input(const Tensor& gy, const Tensor& w, const Shape& x_shape,
                             const Conv2dParams& p) {
  const ConvGeometry g = conv2d_geometry(x_shape, w.shape(), p, "conv2d_backward_input");
  check_shape(gy.shape() == Shape{g.N, g.K, g.OH, g.OW}, "conv2d_backward_input",
              "gradient " + gy.shape_str() + " does not match the output [" +
                  std::to_string(g.N) + ", " + std::to_string(g.K) + ", " +
                  std::to_string(g.OH) + ", " + std::to_string(g.OW) + "]");
  Tensor dx(x_shape);
  const int64_t ohw = g.OH * g.OW, ckk = g.Cg() * g.kh * g.kw;
  const bool pointwise = is_pointwise(g);
  const float* pg = gy.data();
  const float* pw = w.data();
  float* pdx = dx.data();
  for_each_image(g.N, pointwise ? 0 : ckk * ohw, [&](int64_t n, float* col) {
    float* img = pdx + n * g.C * g.H * g.W;
    for (int64_t grp = 0; grp < p.groups; ++grp) {
      const float* dy = pg + (n * g.K + grp * g.Kg()) * ohw;
      // A pointwise conv's dcol is the input gradient itself: write it in place.
      float* dcol = pointwise ? img + grp * g.Cg() * g.H * g.W : col;
      gemm(true, false, ckk, ohw, g.Kg(), 1.0f, pw + grp * g.Kg() * ckk, ckk, dy, ohw, 0.0f,
           dcol, ohw);
      if (!pointwise) col2im(col, g, grp * g.Cg(), img);
    }
  });
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_shape,
                              const Conv2dParams& p) {
  const ConvGeometry g = conv2d_geometry(x.shape(), w_shape, p, "conv2d_backward_weight");
  check_shape(gy.shape() == Shape{g.N, g.K, g.OH, g.OW}, "conv2d_backward_weight",
              "gradient " + gy.shape_str() + " does not match the convolution's output");
  const int64_t ohw = g.OH * g.OW, ckk = g.Cg() * g.kh * g.kw;
  const int64_t wsize = shape_numel(w_shape);
  const bool pointwise = is_pointwise(g);
  // Fixed chunks of images (independent of the thread count): chunk c sums its images
  // in order into partial[c]; the chunks are then added in order.
  constexpr int64_t kChunks = 8;
  const int64_t chunks = std::min(g.N, kChunks);
  std::vector<float> partial(static_cast<size_t>(chunks * wsize), 0.0f);
  const float* px = x.data();
  const float* pg = gy.data();
  for_each_image(chunks, pointwise ? 0 : ckk * ohw, [&](int64_t c, float* col) {
    float* dw = partial.data() + c * wsize;
    for (int64_t n = c * g.N / chunks; n < (c + 1) * g.N / chunks; ++n) {
      const float* img = px + n * g.C * g.H * g.W;
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        const float* cols = img + grp * g.Cg() * g.H * g.W;
        if (!pointwise) {
          im2col(img, g, grp * g.Cg(), col);
          cols = col;
        }
        gemm(false, true, g.Kg(), ckk, ohw, 1.0f, pg + (n * g.K + grp * g.Kg()) * ohw, ohw,
             cols, ohw, 1.0f, dw + grp * g.Kg() * ckk, ckk);
      }
    }
  });
  Tensor dw(w_shape);
  float* out = dw.data();
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t i = 0; i < wsize; ++i) out[i] += partial[c * wsize + i];
  return dw;
}

Tensor conv2d_backward_bias(const Tensor& gy) {
  check_shape(gy.dim() == 4, "conv2d_backward_bias", "gradient must be 4-d, got " + gy.shape_str());
  const int64_t N = gy.size(0), K = gy.size(1), hw = gy.size(2) * gy.size(3);
  Tensor db({K});
  const float* pg = gy.data();
#pragma omp parallel for schedule(static) if (K * N * hw > (1 << 16))
  for (int64_t k = 0; k < K; ++k) {
    double acc = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      const float* plane = pg + (n * K + k) * hw;
      for (int64_t i = 0; i < hw; ++i) acc += plane[i];
    }
    db[k] = static_cast<float>(acc);
  }
  return db;
}

}  // namespace dl
