// detlab's RoI operators against torchvision 0.14: roi_pool, roi_align and
// ps_roi_pool outputs and input gradients, and paste_masks_in_image, on the dumps in
// tests/golden/torchvision/roi_ops.json (made by
// tools/golden/make_torchvision_roi_golden.py with Debian's python3-torchvision).
// Tolerance per tensor: |detlab - torchvision| <= tol * max(1, max|torchvision|).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "autograd/ops.h"
#include "detection/paste_masks.h"
#include "detection/ps_roi_pool.h"
#include "detection/roi_align.h"
#include "detection/roi_pool.h"
#include "util/files.h"

using namespace dl;
using json = nlohmann::json;

namespace {

json load() {
  return json::parse(read_file_text(std::string(DETLAB_SOURCE_DIR) +
                                    "/tests/golden/torchvision/roi_ops.json"));
}

Tensor dec(const json& j) {
  return Tensor(j.at("shape").get<Shape>(), j.at("data").get<std::vector<float>>());
}

// Returns the worst error relative to the reference's magnitude (and checks it).
double expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.shape() == want.shape(), what << ": shape " << got.shape_str()
                                                         << " vs torchvision " << want.shape_str());
  double scale = 1.0, err = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(double(want[i])));
  for (int64_t i = 0; i < want.numel(); ++i)
    err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
  BOOST_TEST(err <= tol * scale, what << ": max abs diff " << err << " > " << tol * scale);
  return err / scale;
}

Var apply(const std::string& op, const json& p, const Var& x, const Tensor& rois) {
  const float scale = p.at("spatial_scale").get<float>();
  const int64_t oh = p.at("out_h").get<int64_t>(), ow = p.at("out_w").get<int64_t>();
  if (op == "roi_pool") return ag::roi_pool(x, rois, oh, ow, scale);
  if (op == "roi_align")
    return ag::roi_align(x, rois, oh, ow, scale, p.at("sampling_ratio").get<int>(),
                         p.at("aligned").get<bool>());
  if (op == "ps_roi_pool") return ag::ps_roi_pool(x, rois, oh, ow, scale);
  BOOST_FAIL("unknown op " << op);
  return Var();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(torchvision_roi)

BOOST_AUTO_TEST_CASE(roi_ops_match_torchvision) {
  const json f = load();
  std::map<std::string, int> seen;
  std::map<std::string, double> worst;
  for (const json& c : f.at("cases")) {
    const std::string op = c.at("op"), name = c.at("name");
    const double tol = c.at("tol").get<double>();
    BOOST_TEST_CONTEXT(name) {
      ++seen[op];
      if (op == "paste_masks_in_image") {
        const json& p = c.at("params");
        const Tensor got = paste_masks_in_image(
            dec(c.at("inputs").at("masks")), dec(c.at("inputs").at("boxes")),
            p.at("im_h").get<int64_t>(), p.at("im_w").get<int64_t>(), p.at("padding").get<int>());
        const double e = expect_close(got, dec(c.at("outputs").at("out")), tol, name);
        worst[op] = std::max(worst[op], e);
        continue;
      }
      Var x(dec(c.at("inputs").at("x")), true);
      const Tensor rois = dec(c.at("inputs").at("rois"));
      Var y = apply(op, c.at("params"), x, rois);
      const double e1 = expect_close(y.value(), dec(c.at("outputs").at("out")), tol, name + " out");
      y.backward(dec(c.at("grad_out")));
      const double e2 = expect_close(x.grad(), dec(c.at("grads").at("x")), tol, name + " grad x");
      worst[op + " out"] = std::max(worst[op + " out"], e1);
      worst[op + " grad"] = std::max(worst[op + " grad"], e2);
    }
  }
  for (const char* op : {"roi_pool", "roi_align", "ps_roi_pool", "paste_masks_in_image"})
    BOOST_TEST(seen[op] >= 3, op << " has only " << seen[op] << " golden cases");
  for (auto& [k, v] : worst) BOOST_TEST_MESSAGE(k << ": max relative error " << v);
}

BOOST_AUTO_TEST_CASE(roi_align_fast_path_matches_reference_on_golden_inputs) {
  const json f = load();
  int n = 0;
  for (const json& c : f.at("cases")) {
    if (c.at("op") != "roi_align") continue;
    const json& p = c.at("params");
    const Tensor x = dec(c.at("inputs").at("x")), rois = dec(c.at("inputs").at("rois"));
    const int64_t oh = p.at("out_h").get<int64_t>(), ow = p.at("out_w").get<int64_t>();
    const float scale = p.at("spatial_scale").get<float>();
    const int sr = p.at("sampling_ratio").get<int>();
    const bool aligned = p.at("aligned").get<bool>();
    const Tensor fast = roi_align_forward(x, rois, oh, ow, scale, sr, aligned);
    const Tensor ref = roi_align_reference(x, rois, oh, ow, scale, sr, aligned);
    expect_close(fast, ref, 1e-6, c.at("name").get<std::string>());
    ++n;
  }
  BOOST_TEST(n > 0);
}

BOOST_AUTO_TEST_SUITE_END()
