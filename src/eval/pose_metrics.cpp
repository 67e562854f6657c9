#include "eval/pose_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace dl {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

int check_samples(const std::vector<PoseSample>& samples) {
  int K = -1;
  for (size_t s = 0; s < samples.size(); ++s) {
    const PoseSample& p = samples[s];
    if (p.ground_truth.size() % 3 != 0 || p.predicted.size() * 3 != p.ground_truth.size() * 2)
      throw std::invalid_argument("pose metrics: sample " + std::to_string(s) + " has " +
                                  std::to_string(p.predicted.size()) + " predicted values and " +
                                  std::to_string(p.ground_truth.size()) +
                                  " ground-truth values; expected 2K and 3K");
    const int k = static_cast<int>(p.ground_truth.size() / 3);
    if (K >= 0 && k != K)
      throw std::invalid_argument("pose metrics: sample " + std::to_string(s) + " has " +
                                  std::to_string(k) + " joints, earlier samples " +
                                  std::to_string(K));
    K = k;
  }
  return std::max(K, 0);
}

void check_index(int j, int K, const char* what) {
  if (j < 0 || j >= K)
    throw std::invalid_argument(std::string("pose metrics: ") + what + " joint " +
                                std::to_string(j) + " is outside [0, " + std::to_string(K) + ")");
}

bool labelled(const PoseSample& p, int j) { return p.ground_truth[3 * j + 2] > 0; }

double gt_distance(const PoseSample& p, int a, int b) {
  return std::hypot(static_cast<double>(p.ground_truth[3 * a]) - p.ground_truth[3 * b],
                    static_cast<double>(p.ground_truth[3 * a + 1]) - p.ground_truth[3 * b + 1]);
}

double error(const PoseSample& p, int j) {
  return std::hypot(static_cast<double>(p.predicted[2 * j]) - p.ground_truth[3 * j],
                    static_cast<double>(p.predicted[2 * j + 1]) - p.ground_truth[3 * j + 1]);
}

// Torso diameter, or -1 when it cannot be measured.
double torso_of(const PoseSample& p, std::pair<int, int> torso) {
  if (!labelled(p, torso.first) || !labelled(p, torso.second)) return -1;
  const double d = gt_distance(p, torso.first, torso.second);
  return d > 0 ? d : -1;
}

double box_size_of(const PoseSample& p) {
  if (box_area(p.box) > 0) return std::max(p.box.width(), p.box.height());
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  const int K = static_cast<int>(p.ground_truth.size() / 3);
  for (int j = 0; j < K; ++j) {
    if (!labelled(p, j)) continue;
    x0 = std::min<double>(x0, p.ground_truth[3 * j]), x1 = std::max<double>(x1, p.ground_truth[3 * j]);
    y0 = std::min<double>(y0, p.ground_truth[3 * j + 1]), y1 = std::max<double>(y1, p.ground_truth[3 * j + 1]);
  }
  const double s = std::max(x1 - x0, y1 - y0);
  return s > 0 ? s : -1;
}

// Per-joint (or per-limb) hit rates, NaN where nothing was labelled, and their pooled
// mean: hits over all labelled joints, so a rarely labelled joint weighs less.
PoseScore rates(const std::vector<double>& hit, const std::vector<double>& n) {
  PoseScore s;
  s.per_joint.assign(hit.size(), kNaN);
  double hits = 0, total = 0;
  for (size_t j = 0; j < hit.size(); ++j) {
    if (n[j] > 0) s.per_joint[j] = hit[j] / n[j];
    hits += hit[j], total += n[j];
  }
  s.counted = static_cast<int>(total);
  s.mean = total > 0 ? hits / total : kNaN;
  return s;
}

// Fraction of labelled joints with error <= factor * scale (< when strict).
PoseScore joint_rate(const std::vector<PoseSample>& samples, PckNorm norm,
                     std::pair<int, int> torso, double factor, bool strict) {
  const int K = check_samples(samples);
  if (norm == PckNorm::Torso && K > 0) {
    check_index(torso.first, K, "torso");
    check_index(torso.second, K, "torso");
  }
  std::vector<double> hit(K, 0), n(K, 0);
  for (const PoseSample& p : samples) {
    const double scale = norm == PckNorm::Torso ? torso_of(p, torso) : box_size_of(p);
    if (scale < 0) continue;
    for (int j = 0; j < K; ++j) {
      if (!labelled(p, j)) continue;
      n[j] += 1;
      const double err = error(p, j), limit = factor * scale;
      if (strict ? err < limit : err <= limit) hit[j] += 1;
    }
  }
  return rates(hit, n);
}

}  // namespace

PoseScore pck(const std::vector<PoseSample>& samples, double alpha, PckNorm norm,
              std::pair<int, int> torso) {
  return joint_rate(samples, norm, torso, alpha, false);
}

PoseScore pdj(const std::vector<PoseSample>& samples, double fraction, std::pair<int, int> torso) {
  return joint_rate(samples, PckNorm::Torso, torso, fraction, true);
}

std::vector<double> pdj_curve(const std::vector<PoseSample>& samples,
                              const std::vector<double>& fractions, std::pair<int, int> torso) {
  std::vector<double> out;
  for (double f : fractions) out.push_back(pdj(samples, f, torso).mean);
  return out;
}

PoseScore pcp(const std::vector<PoseSample>& samples,
              const std::vector<std::pair<int, int>>& limbs, double fraction) {
  const int K = check_samples(samples);
  if (K > 0)
    for (const auto& [a, b] : limbs) {
      check_index(a, K, "limb");
      check_index(b, K, "limb");
    }
  const size_t L = limbs.size();
  std::vector<double> hit(L, 0), n(L, 0);
  for (const PoseSample& p : samples) {
    for (size_t l = 0; l < L; ++l) {
      const auto [a, b] = limbs[l];
      if (!labelled(p, a) || !labelled(p, b)) continue;
      const double len = gt_distance(p, a, b);
      n[l] += 1;
      if (error(p, a) <= fraction * len && error(p, b) <= fraction * len) hit[l] += 1;
    }
  }
  return rates(hit, n);
}

PoseScore mean_joint_error(const std::vector<PoseSample>& samples) {
  const int K = check_samples(samples);
  std::vector<double> sum(K, 0), n(K, 0);
  for (const PoseSample& p : samples)
    for (int j = 0; j < K; ++j)
      if (labelled(p, j)) sum[j] += error(p, j), n[j] += 1;
  PoseScore s;
  s.per_joint.assign(K, kNaN);
  double total = 0, count = 0;
  for (int j = 0; j < K; ++j) {
    if (n[j] > 0) s.per_joint[j] = sum[j] / n[j];
    total += sum[j], count += n[j];
  }
  s.counted = static_cast<int>(count);
  s.mean = count > 0 ? total / count : kNaN;
  return s;
}

PoseScore refinement_slope(const std::vector<PoseSample>& before,
                           const std::vector<std::vector<float>>& after, double max_error) {
  const int K = check_samples(before);
  if (after.size() != before.size())
    throw std::invalid_argument("refinement_slope: " + std::to_string(after.size()) +
                                " refined poses for " + std::to_string(before.size()) + " samples");
  std::vector<double> dc(K, 0), dd(K, 0);
  std::vector<int> n(K, 0);
  for (size_t i = 0; i < before.size(); ++i) {
    const PoseSample& p = before[i];
    if (after[i].size() != p.predicted.size())
      throw std::invalid_argument("refinement_slope: refined pose " + std::to_string(i) +
                                  " has " + std::to_string(after[i].size()) + " values, expected " +
                                  std::to_string(p.predicted.size()));
    for (int j = 0; j < K; ++j) {
      if (!labelled(p, j) || !(error(p, j) < max_error)) continue;
      for (int a = 0; a < 2; ++a) {
        const double d = static_cast<double>(p.ground_truth[3 * j + a]) - p.predicted[2 * j + a];
        const double c = static_cast<double>(after[i][2 * j + a]) - p.predicted[2 * j + a];
        dc[j] += d * c;
        dd[j] += d * d;
      }
      n[j] += 1;
    }
  }
  PoseScore s;
  s.per_joint.assign(K, kNaN);
  double sum_dc = 0, sum_dd = 0;
  for (int j = 0; j < K; ++j) {
    if (dd[j] > 0) s.per_joint[j] = dc[j] / dd[j];
    sum_dc += dc[j], sum_dd += dd[j], s.counted += n[j];
  }
  s.mean = sum_dd > 0 ? sum_dc / sum_dd : kNaN;
  return s;
}

}  // namespace dl
