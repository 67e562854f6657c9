#include "data/figures.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "data/scenes.h"
#include "tensor/rng.h"

namespace dl {

namespace {

constexpr float kDeg = 3.14159265f / 180.0f;

// Body proportions as fractions of the standing height (roughly the classic
// "8 heads" figure, simplified).
constexpr float kShank = 0.24f, kThigh = 0.24f, kTorso = 0.30f, kHead = 0.17f;
constexpr float kHipHalf = 0.06f, kShoulderHalf = 0.11f;
constexpr float kUpperArm = 0.16f, kForearm = 0.15f;

struct V2 {
  float x = 0, y = 0;
};
V2 operator+(V2 a, V2 b) { return {a.x + b.x, a.y + b.y}; }
V2 operator*(float s, V2 a) { return {s * a.x, s * a.y}; }

uint8_t to_byte(float v) { return static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f)); }

Color random_color(Rng& rng, float min_value) {
  // Saturated-ish RGB: one channel high, the others random.
  float c[3] = {rng.uniform(), rng.uniform(), rng.uniform()};
  c[rng.below(3)] = rng.uniform(min_value, 1.0f);
  return Color{to_byte(255 * c[0]), to_byte(255 * c[1]), to_byte(255 * c[2])};
}

}  // namespace

const std::vector<std::string>& figure_joint_names() {
  static const std::vector<std::string> names = {
      "right_foot",     "right_knee",    "right_hip",  "left_hip",   "left_knee",
      "left_foot",      "right_hand",    "right_elbow", "right_shoulder",
      "left_shoulder",  "left_elbow",    "left_hand",  "neck",       "head_top"};
  return names;
}

const std::vector<std::pair<int, int>>& figure_limbs() {
  static const std::vector<std::pair<int, int>> limbs = {
      {0, 1}, {1, 2}, {5, 4}, {4, 3}, {2, 3},              // legs, hips
      {2, 8}, {3, 9},                                      // torso sides
      {8, 12}, {12, 9},                                    // shoulders to neck
      {6, 7}, {7, 8}, {11, 10}, {10, 9},                   // arms
      {12, 13}};                                           // neck to head top
  return limbs;
}

CocoCategory figure_category() {
  CocoCategory c;
  c.id = 1;
  c.name = "person";
  c.supercategory = "person";
  c.keypoints = figure_joint_names();
  for (const auto& [a, b] : figure_limbs()) c.skeleton.emplace_back(a + 1, b + 1);
  return c;
}

void validate(const FigureOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.width < 16 || o.height < 16 || o.width > 4096 || o.height > 4096)
    fail("figure image size must be within 16..4096 pixels");
  if (o.count < 0) fail("count must be >= 0");
  if (!(o.min_height > 0.05f) || !(o.max_height >= o.min_height) || o.max_height > 2.0f)
    fail("need 0.05 < min-height <= max-height <= 2");
  if (!(o.occlusion_prob >= 0 && o.occlusion_prob <= 1) ||
      !(o.outside_prob >= 0 && o.outside_prob <= 1))
    fail("probabilities must be within 0..1");
  if (!(o.left_shade > 0 && o.left_shade <= 1)) fail("left-shade must be within (0, 1]");
}

Figure generate_figure(const FigureOptions& o, const std::vector<Image>& textures, int64_t index) {
  validate(o);
  const Rng base = Rng(o.seed).fork(static_cast<uint64_t>(index));
  // Keys other than the scenes' 1, 2, 3: figure i and scene i get different backgrounds.
  Rng bg_rng = base.fork(11), rng = base.fork(12), paint_rng = base.fork(13);
  const int W = o.width, H = o.height;

  Figure fig;
  fig.image = random_background(W, H, textures, bg_rng);
  const float hb = rng.uniform(o.min_height, o.max_height) * H;
  fig.body_height = hb;

  // Pose, relative to the pelvis centre, y down. u = torso "up"; side = the figure's
  // right (image left when it faces us; mirrored when it faces away).
  const float lean = rng.uniform(-30.0f, 30.0f) * kDeg;
  const V2 up{std::sin(lean), -std::cos(lean)};
  V2 right{-std::cos(lean), -std::sin(lean)};
  fig.faces_camera = !rng.bernoulli(0.3f);
  if (!fig.faces_camera) right = -1.0f * right;
  const V2 down = -1.0f * up;
  // A direction `a` radians from hanging straight down, swung outwards to `side`.
  auto swing = [&](float a, V2 side) { return std::cos(a) * down + std::sin(a) * side; };
  // Limbs are foreshortened a little (they may point towards the camera).
  auto len = [&](float nominal) { return nominal * hb * rng.uniform(0.75f, 1.0f); };

  std::array<V2, kFigureJoints> j;
  const V2 pelvis{0, 0};
  const V2 neck = pelvis + len(kTorso) * up;
  j[12] = neck;
  for (int s = 0; s < 2; ++s) {  // s = 0 right, 1 left
    const V2 side = s == 0 ? right : -1.0f * right;
    const int hip = s == 0 ? 2 : 3, knee = s == 0 ? 1 : 4, foot = s == 0 ? 0 : 5;
    const int sho = s == 0 ? 8 : 9, elb = s == 0 ? 7 : 10, hand = s == 0 ? 6 : 11;
    // Joint angle limits (degrees): thigh -25..70 from vertical, knee -80..80,
    // upper arm -20..170 (hanging to overhead), elbow -130..130.
    j[hip] = pelvis + kHipHalf * hb * side;
    const float thigh = rng.uniform(-25.0f, 70.0f) * kDeg;
    j[knee] = j[hip] + len(kThigh) * swing(thigh, side);
    j[foot] = j[knee] + len(kShank) * swing(thigh + rng.uniform(-80.0f, 80.0f) * kDeg, side);
    j[sho] = neck + kShoulderHalf * hb * side;
    const float arm = rng.uniform(-20.0f, 170.0f) * kDeg;
    j[elb] = j[sho] + len(kUpperArm) * swing(arm, side);
    j[hand] = j[elb] + len(kForearm) * swing(arm + rng.uniform(-130.0f, 130.0f) * kDeg, side);
  }
  const float head_turn = rng.uniform(-20.0f, 20.0f) * kDeg;
  const V2 head_dir = std::cos(head_turn) * up + std::sin(head_turn) * right;
  j[13] = neck + len(kHead) * head_dir;

  // Placement: the joints' box inside the image (with a margin for the thick limbs),
  // unless the figure is deliberately pushed partly out of view.
  float bx0 = 1e9f, by0 = 1e9f, bx1 = -1e9f, by1 = -1e9f;
  for (const V2& p : j) {
    bx0 = std::min(bx0, p.x), by0 = std::min(by0, p.y);
    bx1 = std::max(bx1, p.x), by1 = std::max(by1, p.y);
  }
  const float margin = 0.06f * hb;
  auto place = [&](float lo, float hi, float extent) {
    lo = -lo + margin;
    hi = extent - hi - margin;
    return hi > lo ? rng.uniform(lo, hi) : 0.5f * (lo + hi);
  };
  V2 origin{place(bx0, bx1, float(W)), place(by0, by1, float(H))};
  if (rng.bernoulli(o.outside_prob)) {
    origin.x += rng.uniform(-0.5f, 0.5f) * hb;
    origin.y += rng.uniform(-0.5f, 0.5f) * hb;
  }
  // Keep the pelvis in view so every figure has some pixels.
  origin.x = std::clamp(origin.x, 0.5f, W - 0.5f);
  origin.y = std::clamp(origin.y, 0.5f, H - 0.5f);
  // Joints on a 1/8-pixel grid: exact in float and short in JSON (37.125, not
  // 37.12499618530273).
  auto grid = [](float v) { return std::round(v * 8.0f) / 8.0f; };
  for (int k = 0; k < kFigureJoints; ++k)
    fig.joints[k] = {grid(j[k].x + origin.x), grid(j[k].y + origin.y)};

  // Drawing, into the image and into a grey mask. draw.h takes pixel-index
  // coordinates (centre of pixel i at i), hence the -0.5.
  Image mask_img(W, H, 1, 0);
  const Color kOn{255, 255, 255};
  auto P = [&](int k) { return V2{fig.joints[k][0] - 0.5f, fig.joints[k][1] - 0.5f}; };
  auto line = [&](V2 a, V2 b, Color c, float t) {
    draw_line(fig.image, a.x, a.y, b.x, b.y, c, t);
    draw_line(mask_img, a.x, a.y, b.x, b.y, kOn, t);
  };
  const Color shirt = random_color(paint_rng, 0.5f), trousers = random_color(paint_rng, 0.4f);
  const Color skin = random_color(paint_rng, 0.6f);
  // The hair from its own stream, so that adding it left every other draw as it was.
  Rng face_rng = base.fork(14);
  const Color hair{to_byte(face_rng.uniform(10.0f, 90.0f)), to_byte(face_rng.uniform(5.0f, 70.0f)),
                   to_byte(face_rng.uniform(0.0f, 50.0f))};
  fig.skin = skin;
  fig.hair = hair;
  auto left = [&](Color c) {
    return Color{to_byte(c.r * o.left_shade), to_byte(c.g * o.left_shade),
                 to_byte(c.b * o.left_shade)};
  };
  const float leg_t = std::max(2.0f, 0.07f * hb), arm_t = std::max(2.0f, 0.05f * hb);
  line(P(0), P(1), trousers, leg_t);
  line(P(1), P(2), trousers, leg_t);
  line(P(5), P(4), left(trousers), leg_t);
  line(P(4), P(3), left(trousers), leg_t);
  line(P(2), P(3), trousers, leg_t);
  const V2 mid_hip = 0.5f * (P(2) + P(3));
  line(mid_hip, P(12), shirt, std::max(3.0f, 0.18f * hb));
  // Which side is which. A person is (nearly) mirror-symmetric: from the back, the
  // silhouette of their left arm is where a front view would show the right one, so
  // limbs alone cannot tell "left" (the person's own left, as LSP and COCO label it).
  // What tells it in a real photo is which way they face: a face below the hair and an
  // open collar at the front; the back of the head (all hair) and a plain collar from
  // behind. The figures carry exactly that cue and, by default (left_shade = 1),
  // nothing chiral: a left/right mirror of a figure, with its joint names exchanged, is
  // again a correctly labelled figure, which keeps the training flips of lesson 02
  // honest.
  const V2 torso_dir = mid_hip + -1.0f * P(12);
  const float torso_len = std::max(std::hypot(torso_dir.x, torso_dir.y), 1e-3f);
  if (fig.faces_camera)
    line(P(12), P(12) + (0.08f * hb / torso_len) * torso_dir, skin, std::max(2.0f, 0.05f * hb));
  line(P(8), P(9), shirt, arm_t);
  line(P(8), P(7), shirt, arm_t);
  line(P(9), P(10), left(shirt), arm_t);
  line(P(7), P(6), skin, arm_t);
  line(P(10), P(11), left(skin), arm_t);
  const V2 head_top = P(13), neck_p = P(12);
  const float head_len = std::hypot(head_top.x - neck_p.x, head_top.y - neck_p.y);
  const float r = 0.45f * head_len;
  const V2 centre = head_top + (r / std::max(head_len, 1e-3f)) * (neck_p + -1.0f * head_top);
  line(neck_p, centre, skin, std::max(2.0f, 0.04f * hb));
  // The head: from the front a face with the hair as a cap above 0.3 r (along the head's
  // axis, neck -> head top) and two eyes; from behind all hair.
  const V2 axis = (1.0f / std::max(head_len, 1e-3f)) * (head_top + -1.0f * neck_p);
  const int hx0 = std::max(0, static_cast<int>(std::floor(centre.x - r)));
  const int hx1 = std::min(W - 1, static_cast<int>(std::ceil(centre.x + r)));
  const int hy0 = std::max(0, static_cast<int>(std::floor(centre.y - r)));
  const int hy1 = std::min(H - 1, static_cast<int>(std::ceil(centre.y + r)));
  for (int y = hy0; y <= hy1; ++y)
    for (int x = hx0; x <= hx1; ++x) {
      const float dx = x - centre.x, dy = y - centre.y;
      if (dx * dx + dy * dy > r * r) continue;
      const bool is_hair = !fig.faces_camera || dx * axis.x + dy * axis.y > 0.3f * r;
      blend_pixel(fig.image, x, y, is_hair ? hair : skin);
      blend_pixel(mask_img, x, y, kOn);
    }
  if (fig.faces_camera) {
    const V2 across{-axis.y, axis.x};
    for (float s : {-1.0f, 1.0f}) {
      const V2 eye = centre + (0.05f * r) * axis + (0.38f * s * r) * across;
      fill_circle(fig.image, eye.x, eye.y, std::max(0.75f, 0.14f * r), hair);
    }
  }

  // Distractor blobs over some joints that are in view.
  auto in_view = [&](int k) {
    return fig.joints[k][0] >= 0 && fig.joints[k][0] < W && fig.joints[k][1] >= 0 &&
           fig.joints[k][1] < H;
  };
  if (rng.bernoulli(o.occlusion_prob)) {
    const int n = static_cast<int>(rng.randint(1, 3));
    for (int b = 0; b < n; ++b) {
      const int k = static_cast<int>(rng.below(kFigureJoints));
      Occluder oc;
      oc.x = fig.joints[k][0] + rng.uniform(-0.03f, 0.03f) * hb;
      oc.y = fig.joints[k][1] + rng.uniform(-0.03f, 0.03f) * hb;
      oc.radius = std::max(3.0f, rng.uniform(0.06f, 0.11f) * hb);
      const Color c = random_color(paint_rng, 0.2f);
      fill_circle(fig.image, oc.x - 0.5f, oc.y - 0.5f, oc.radius, c);
      fill_circle(mask_img, oc.x - 0.5f, oc.y - 0.5f, oc.radius, Color{0, 0, 0});
      fig.occluders.push_back(oc);
    }
  }

  for (int k = 0; k < kFigureJoints; ++k) {
    Keypoint kp;
    if (in_view(k)) {
      kp.x = fig.joints[k][0];
      kp.y = fig.joints[k][1];
      kp.v = 2;
      for (const Occluder& oc : fig.occluders)
        if (std::hypot(kp.x - oc.x, kp.y - oc.y) <= oc.radius) kp.v = 1;
    }
    fig.keypoints.push_back(kp);
  }

  fig.mask = Mask(H, W);
  for (size_t i = 0; i < fig.mask.data.size(); ++i) fig.mask.data[i] = mask_img.pixels[i] > 127;
  fig.area = mask_area(fig.mask);
  fig.bbox = mask_bbox(fig.mask);
  return fig;
}

CocoAnnotation figure_annotation(const Figure& f, int64_t image_id) {
  CocoAnnotation a;
  a.image_id = image_id;
  a.category_id = 1;
  a.bbox = f.bbox;
  a.area = static_cast<double>(f.area);
  a.iscrowd = false;
  a.segmentation.kind = CocoSegmentation::Kind::CompressedRle;
  a.segmentation.rle = rle_encode(f.mask);
  for (const Keypoint& k : f.keypoints) {
    a.keypoints.push_back(k.x);
    a.keypoints.push_back(k.y);
    a.keypoints.push_back(static_cast<float>(k.v));
    a.num_keypoints += k.v > 0;
  }
  return a;
}

}  // namespace dl
