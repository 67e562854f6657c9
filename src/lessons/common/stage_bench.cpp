#include "lessons/common/stage_bench.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "data/detection_dataset.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

std::string bench_model_file(const CommonArgs& a, const std::string& default_path) {
  const std::string path = a.model.empty() ? default_path : a.model;
  if (!a.model.empty() || std::filesystem::exists(path)) return path;
  if (!a.quiet) fmt::print(stderr, "(no {}: timing a randomly initialised model)\n", path);
  return "";
}

std::vector<BenchImage> bench_images(const CommonArgs& a, const std::vector<std::string>& paths,
                                     int64_t limit, int64_t default_limit) {
  std::vector<BenchImage> images;
  for (const auto& p : paths) images.push_back({p, load_image(p, 3)});
  if (images.empty()) {
    const std::string dir = scenes_split_dir(a, "test");
    DetectionDataset ds = load_detection_dataset(dir, limit > 0 ? limit : default_limit);
    for (auto& item : ds.items)
      images.push_back({fmt::format("{} #{}", dir, item.image_id), std::move(item.image)});
    if (images.empty()) throw FileError(dir, "no images to time");
  }
  return images;
}

namespace {

// The seconds of the stages after the proposals (stage 0).
double without_proposals(const std::vector<double>& seconds, const std::vector<bool>& proposal) {
  double s = 0;
  for (size_t i = 0; i < seconds.size(); ++i)
    if (!proposal[i]) s += seconds[i];
  return s;
}
double of_proposals(const std::vector<double>& seconds, const std::vector<bool>& proposal) {
  double s = 0;
  for (size_t i = 0; i < seconds.size(); ++i)
    if (proposal[i]) s += seconds[i];
  return s;
}
// Seconds per image: each stage's mean, and the totals without and with the proposals.
nlohmann::json mean_seconds(const StageBench& b) {
  const double n = static_cast<double>(b.images);
  nlohmann::json mean = nlohmann::json::object();
  for (size_t i = 0; i < b.stages.size(); ++i) mean[b.stages[i]] = b.seconds[i] / n;
  if (!mean.contains("proposals")) mean["proposals"] = of_proposals(b.seconds, b.proposal_stage) / n;
  mean["without_proposals"] = without_proposals(b.seconds, b.proposal_stage) / n;
  mean["total"] = (without_proposals(b.seconds, b.proposal_stage) +
                   of_proposals(b.seconds, b.proposal_stage)) / n;
  return mean;
}

}  // namespace

StageBench time_stages(const std::vector<BenchImage>& images, ProposalOptions po,
                       const std::vector<std::string>& stages, const StageDetect& detect) {
  po.cache_dir.clear();  // the proposals' own cost is part of the measurement
  std::vector<std::string> all = {"proposals"};
  all.insert(all.end(), stages.begin(), stages.end());
  return time_own_stages(images, all, {"proposals"}, po.preset, [&](const Image& img) {
    const auto t0 = Clock::now();
    const std::vector<Box> props = proposals_of(img, po);
    const double seconds = seconds_since(t0);
    StageRun r = detect(img, props);
    r.seconds.insert(r.seconds.begin(), seconds);
    r.proposals = static_cast<int64_t>(props.size());
    return r;
  });
}

StageBench time_own_stages(const std::vector<BenchImage>& images,
                           const std::vector<std::string>& stages,
                           const std::vector<std::string>& proposal_stages,
                           const std::string& preset, const OwnStageDetect& detect) {
  StageBench b;
  b.stages = stages;
  b.seconds.assign(b.stages.size(), 0.0);
  for (const std::string& s : stages)
    b.proposal_stage.push_back(std::find(proposal_stages.begin(), proposal_stages.end(), s) !=
                               proposal_stages.end());
  b.preset = preset;
  if (!images.empty()) detect(images[0].image);  // warm-up (first-touch allocations)
  for (const auto& [name, img] : images) {
    StageRun r = detect(img);
    r.seconds.resize(b.stages.size(), 0.0);  // a stage the detector did not report took no time
    b.proposals += r.proposals;
    for (size_t i = 0; i < r.seconds.size(); ++i) b.seconds[i] += r.seconds[i];
    b.extra.resize(std::max(b.extra.size(), r.extra.size()), 0.0);
    for (size_t i = 0; i < r.extra.size(); ++i) b.extra[i] += r.extra[i];
    nlohmann::json row = {{"image", name},
                          {"proposals", r.proposals},
                          {"detections", r.detections.size()}};
    for (size_t i = 0; i < r.seconds.size(); ++i) row[b.stages[i] + "_seconds"] = r.seconds[i];
    row["seconds_without_proposals"] = without_proposals(r.seconds, b.proposal_stage);
    row["seconds"] = without_proposals(r.seconds, b.proposal_stage) +
                     of_proposals(r.seconds, b.proposal_stage);
    b.rows.push_back(row);
  }
  b.images = static_cast<int64_t>(images.size());
  return b;
}

nlohmann::json stage_bench_json(const StageBench& b) {
  return {{"images", b.rows},
          {"proposals_per_image", b.proposals / static_cast<double>(b.images)},
          {"preset", b.preset},
          {"seconds_per_image", mean_seconds(b)}};
}

void print_stage_table(const StageBench& b, const std::vector<std::string>& labels,
                       const std::function<void(const std::string&, double)>& after_row) {
  const double n = static_cast<double>(b.images);
  const nlohmann::json mean = mean_seconds(b);
  const double total = mean["total"].get<double>();
  fmt::print("{:<12} {:>10} {:>7}\n", "stage", "s/image", "share");
  for (size_t i = 0; i < b.stages.size(); ++i) {
    const double s = mean[b.stages[i]].get<double>();
    fmt::print("{:<12} {:>10.4f} {:>6.1f}%\n", i < labels.size() ? labels[i] : b.stages[i], s,
               100 * s / total);
    if (after_row) after_row(b.stages[i], total);
  }
  fmt::print("{:<12} {:>10.4f}\n{:<12} {:>10.4f}   ({} images, {:.0f} proposals/image, preset "
             "{})\n",
             "w/o props", mean["without_proposals"].get<double>(), "total", total, b.images,
             b.proposals / n, b.preset);
}

int report_stage_bench(const StageBench& b, bool json, const std::vector<std::string>& labels) {
  if (json)
    fmt::print("{}\n", stage_bench_json(b).dump());
  else
    print_stage_table(b, labels);
  return 0;
}

}  // namespace dl::cli
