// detlab against PyTorch: every differentiable op's output and gradients on the
// dumps in tests/golden/torch/ (made by tools/golden/make_torch_golden.py with
// Debian's python3-torch), and a whole small CNN trained for 3 SGD-momentum steps.
// Tolerance per tensor: |detlab - torch| <= tol * max(1, max|torch|), tol in the file.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "autograd/ops.h"
#include "nn/tf_padding.h"
#include "nn/optimizer.h"
#include "util/files.h"

using namespace dl;
using json = nlohmann::json;

namespace {

json load(const std::string& family) {
  return json::parse(
      read_file_text(std::string(DETLAB_SOURCE_DIR) + "/tests/golden/torch/" + family + ".json"));
}

Tensor dec(const json& j) {
  return Tensor(j.at("shape").get<Shape>(), j.at("data").get<std::vector<float>>());
}

// Compares and reports the worst error relative to the reference's magnitude.
void expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.shape() == want.shape(), what << ": shape " << got.shape_str()
                                                         << " vs torch " << want.shape_str());
  double scale = 1.0, err = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(double(want[i])));
  for (int64_t i = 0; i < want.numel(); ++i)
    err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
  BOOST_TEST(err <= tol * scale, what << ": max abs diff " << err << " > " << tol * scale);
}

ag::Reduction reduction_of(const json& p) {
  const std::string r = p.value("reduction", "mean");
  return r == "sum" ? ag::Reduction::Sum : r == "none" ? ag::Reduction::None : ag::Reduction::Mean;
}

ag::Pool2dOptions pool_options(const json& p) {
  ag::Pool2dOptions o;
  o.kernel_h = o.kernel_w = p.at("kernel").get<int>();
  o.stride_h = o.stride_w = p.at("stride").get<int>();
  o.pad_h = o.pad_w = p.at("pad").get<int>();
  o.ceil_mode = p.at("ceil_mode").get<bool>();
  o.count_include_pad = p.value("count_include_pad", true);
  return o;
}

ag::Conv2dOptions conv_options(const json& p) {
  ag::Conv2dOptions o;
  o.stride_h = o.stride_w = p.at("stride").get<int>();
  o.pad_h = o.pad_w = p.at("pad").get<int>();
  o.dilation_h = o.dilation_w = p.at("dilation").get<int>();
  o.groups = p.at("groups").get<int>();
  o.output_pad_h = o.output_pad_w = p.value("output_pad", 0);
  return o;
}

// The op under test, applied to the case's inputs. `extra` receives further outputs
// (batch norm's running statistics).
using Inputs = std::map<std::string, Var>;
using Targets = std::map<std::string, Tensor>;
Var apply(const std::string& op, const json& p, Inputs& in, const Targets& t,
          std::map<std::string, Tensor>& extra) {
  auto opt_var = [&](const char* k) { return in.count(k) ? in.at(k) : Var(); };
  auto opt_t = [&](const char* k) { return t.count(k) ? t.at(k) : Tensor(); };
  if (op == "conv2d") return ag::conv2d(in["x"], in["weight"], opt_var("bias"), conv_options(p));
  if (op == "conv_transpose2d")
    return ag::conv_transpose2d(in["x"], in["weight"], opt_var("bias"), conv_options(p));
  if (op == "max_pool2d") return ag::max_pool2d(in["x"], pool_options(p));
  if (op == "avg_pool2d") return ag::avg_pool2d(in["x"], pool_options(p));
  if (op == "adaptive_avg_pool2d")
    return ag::adaptive_avg_pool2d(in["x"], p.at("out_h").get<int>(), p.at("out_w").get<int>());
  if (op == "upsample_bilinear2d")
    return ag::upsample_bilinear2d(in["x"], p.at("out_h").get<int>(), p.at("out_w").get<int>(),
                                   p.at("align_corners").get<bool>());
  if (op == "batch_norm") {
    extra["running_mean"] = in["running_mean"].value().clone();
    extra["running_var"] = in["running_var"].value().clone();
    return ag::batch_norm(in["x"], in["gamma"], in["beta"], extra["running_mean"],
                          extra["running_var"], p.at("training").get<bool>(),
                          p.at("momentum").get<float>(), p.at("eps").get<float>());
  }
  if (op == "linear") return ag::linear(in["x"], in["weight"], opt_var("bias"));
  if (op == "softmax") return ag::softmax(in["x"], p.at("axis").get<int>());
  if (op == "log_softmax") return ag::log_softmax(in["x"], p.at("axis").get<int>());
  if (op == "relu") return ag::relu(in["x"]);
  if (op == "relu6") return ag::relu6(in["x"]);
  // tf_ops.json: TensorFlow's "same" padding (nn/tf_padding.h).
  if (op == "conv2d_same")
    return nn::conv2d_same(in["x"], in["weight"], in["bias"], p.at("stride").get<int>(), p.at("groups").get<int>());
  if (op == "max_pool2d_same")
    return nn::max_pool2d_same(in["x"], p.at("kernel").get<int>(), p.at("stride").get<int>());
  if (op == "leaky_relu") return ag::leaky_relu(in["x"], p.at("slope").get<float>());
  if (op == "sigmoid") return ag::sigmoid(in["x"]);
  if (op == "tanh") return ag::tanh(in["x"]);
  if (op == "cross_entropy")
    return ag::cross_entropy(in["logits"], t.at("target"), opt_t("weight"),
                             p.value("ignore_index", -100), reduction_of(p));
  if (op == "bce_with_logits")
    return ag::binary_cross_entropy_with_logits(in["logits"], t.at("target"), opt_t("weight"),
                                                reduction_of(p));
  if (op == "smooth_l1")
    return ag::smooth_l1(in["pred"], t.at("target"), p.at("beta").get<float>(), reduction_of(p));
  if (op == "mse") return ag::mse(in["pred"], t.at("target"), reduction_of(p));
  // tensor_ops.json: elementwise, reductions, products, shape ops.
  if (op == "add") return ag::add(in["a"], in["b"]);
  if (op == "sub") return ag::sub(in["a"], in["b"]);
  if (op == "mul") return ag::mul(in["a"], in["b"]);
  if (op == "div") return ag::div(in["a"], in["b"]);
  if (op == "add_scalar") return ag::add(in["a"], p.at("s").get<float>());
  if (op == "mul_scalar") return ag::mul(in["a"], p.at("s").get<float>());
  if (op == "neg") return ag::neg(in["a"]);
  if (op == "exp") return ag::exp(in["a"]);
  if (op == "log") return ag::log(in["a"]);
  if (op == "sqrt") return ag::sqrt(in["a"]);
  if (op == "abs") return ag::abs(in["a"]);
  if (op == "pow") return ag::pow(in["a"], p.at("p").get<float>());
  if (op == "clamp") return ag::clamp(in["a"], p.at("lo").get<float>(), p.at("hi").get<float>());
  if (op == "sum") return ag::sum(in["a"], p.at("axes").get<std::vector<int>>(), p.at("keepdim").get<bool>());
  if (op == "mean")
    return ag::mean(in["a"], p.at("axes").get<std::vector<int>>(), p.at("keepdim").get<bool>());
  if (op == "sum_all") return ag::sum_all(in["a"]);
  if (op == "mean_all") return ag::mean_all(in["a"]);
  if (op == "max") return ag::max(in["a"], p.at("axis").get<int>(), p.at("keepdim").get<bool>());
  if (op == "matmul")
    return ag::matmul(in["a"], in["b"], p.at("trans_a").get<bool>(), p.at("trans_b").get<bool>());
  if (op == "bmm")
    return ag::bmm(in["a"], in["b"], p.at("trans_a").get<bool>(), p.at("trans_b").get<bool>());
  if (op == "reshape") return ag::reshape(in["a"], p.at("shape").get<Shape>());
  if (op == "flatten") return ag::flatten(in["a"], p.at("start").get<int>());
  if (op == "permute") return ag::permute(in["a"], p.at("perm").get<std::vector<int>>());
  if (op == "transpose") return ag::transpose(in["a"], p.at("ax0").get<int>(), p.at("ax1").get<int>());
  if (op == "slice")
    return ag::slice(in["a"], p.at("axis").get<int>(), p.at("start").get<int64_t>(),
                     p.at("end").get<int64_t>(), p.at("step").get<int64_t>());
  if (op == "concat") return ag::concat({in["a"], in["b"]}, p.at("axis").get<int>());
  if (op == "stack") return ag::stack({in["a"], in["b"]}, p.at("axis").get<int>());
  if (op == "index_select") return ag::index_select(in["a"], p.at("axis").get<int>(), t.at("index"));
  if (op == "gather") return ag::gather(in["a"], p.at("axis").get<int>(), t.at("index"));
  if (op == "pad2d")
    return ag::pad2d(in["a"], p.at("top").get<int>(), p.at("bottom").get<int>(),
                     p.at("left").get<int>(), p.at("right").get<int>(), p.at("value").get<float>());
  throw std::runtime_error("test_torch_golden: no detlab op for '" + op + "'");
}

// Runs every case of one family file; returns the ops it covered.
std::set<std::string> check_family(const std::string& family) {
  const json f = load(family);
  std::set<std::string> ops;
  for (const json& c : f.at("cases")) {
    const std::string name = c.at("name");
    BOOST_TEST_CONTEXT(family << " / " << name) {
      const std::string op = c.at("op");
      ops.insert(op);
      Inputs in;
      for (auto it = c.at("inputs").begin(); it != c.at("inputs").end(); ++it)
        in[it.key()] = Var(dec(it.value()), c.at("grads").contains(it.key()));
      Targets t;
      for (auto it = c.at("targets").begin(); it != c.at("targets").end(); ++it)
        t[it.key()] = dec(it.value());
      std::map<std::string, Tensor> extra;
      Var out = apply(op, c.at("params"), in, t, extra);
      const double tol = c.at("tol").get<double>();
      expect_close(out.value(), dec(c.at("outputs").at("out")), tol, name + " output");
      for (auto& [k, v] : extra) expect_close(v, dec(c.at("outputs").at(k)), tol, name + " " + k);
      out.backward(dec(c.at("grad_out")));
      for (auto it = c.at("grads").begin(); it != c.at("grads").end(); ++it) {
        BOOST_REQUIRE_MESSAGE(in[it.key()].grad().defined(), name << ": no gradient for " << it.key());
        expect_close(in[it.key()].grad(), dec(it.value()), tol, name + " grad " + it.key());
      }
    }
  }
  return ops;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(torch_golden)

// Every op the issue lists must have golden cases: deleting a file or a family fails here.
BOOST_AUTO_TEST_CASE(every_op_matches_pytorch) {
  std::set<std::string> covered;
  for (const char* fam : {"conv", "pool", "norm_linear_activation", "loss", "tensor_ops", "tf_ops"}) {
    std::set<std::string> ops = check_family(fam);
    covered.insert(ops.begin(), ops.end());
  }
  for (const char* op : {"conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
                         "adaptive_avg_pool2d", "upsample_bilinear2d", "batch_norm", "linear",
                         "softmax", "log_softmax", "relu", "leaky_relu", "sigmoid", "tanh",
                         "cross_entropy", "bce_with_logits", "smooth_l1", "mse", "add", "sub",
                         "mul", "div", "add_scalar", "mul_scalar", "neg", "exp", "log", "sqrt",
                         "abs", "pow", "clamp", "sum", "mean", "sum_all", "mean_all", "max",
                         "matmul", "bmm", "reshape", "flatten", "permute", "transpose", "slice",
                         "concat", "stack", "index_select", "gather", "pad2d", "relu6", "conv2d_same",
                         "max_pool2d_same"})
    BOOST_TEST(covered.count(op) == 1u, "no PyTorch golden case for " << op);
}

// The llm.c habit: a whole model, forward + backward + optimizer, 3 steps, against PyTorch.
BOOST_AUTO_TEST_CASE(small_cnn_three_sgd_steps) {
  const json g = load("small_cnn");
  std::map<std::string, Var> p;
  std::vector<Var> params;
  for (const char* k : {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight",
                        "fc.bias"}) {
    p[k] = Var(dec(g.at("params_before").at(k)), true);
    params.push_back(p[k]);
  }
  const Tensor x = dec(g.at("x")), target = dec(g.at("target"));
  nn::SgdOptions so;
  so.momentum = g.at("momentum").get<float>();
  so.weight_decay = g.at("weight_decay").get<float>();
  nn::Sgd sgd(params, g.at("lr").get<float>(), so);
  ag::Conv2dOptions same;
  same.pad_h = same.pad_w = 1;
  const ag::Pool2dOptions pool2;  // 2x2, stride 2
  const double tol = g.at("tol").get<double>();
  for (int step = 0; step < 3; ++step) {
    sgd.zero_grad();
    Var h = ag::max_pool2d(ag::relu(ag::conv2d(Var(x), p["conv1.weight"], p["conv1.bias"], same)), pool2);
    h = ag::max_pool2d(ag::relu(ag::conv2d(h, p["conv2.weight"], p["conv2.bias"], same)), pool2);
    Var loss = ag::cross_entropy(ag::linear(ag::flatten(h), p["fc.weight"], p["fc.bias"]), target);
    const double want = g.at("losses")[step].get<double>();
    BOOST_TEST(std::fabs(loss.item() - want) <= tol * std::max(1.0, std::fabs(want)),
               "step " << step << " loss " << loss.item() << " vs torch " << want);
    loss.backward();
    sgd.step();
  }
  for (auto& [k, v] : p) expect_close(v.value(), dec(g.at("params_after").at(k)), tol, k + " after 3 steps");
}

BOOST_AUTO_TEST_SUITE_END()
