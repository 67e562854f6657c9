#include "lessons/common/predict_with_proposals.h"

#include <fmt/core.h>

#include <filesystem>
#include <stdexcept>

#include "image/image.h"
#include "lessons/common/draw_detections.h"
#include "lessons/common/ground_truth.h"
#include "lessons/common/photo.h"
#include "lessons/common/report.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

int predict_images(const std::vector<std::string>& images, const PredictSettings& s,
                   const std::function<PredictedImage(const std::string&, const Image&)>& detect) {
  namespace fs = std::filesystem;
  nlohmann::json all = nlohmann::json::array();
  GroundTruthFinder truth_of;
  for (const std::string& path : images) {
    const Photo photo = load_photo(path);
    const Image& img = photo.image;
    PredictedImage p;
    try {
      p = detect(path, img);
    } catch (const std::invalid_argument& e) {
      // A backbone that pools by 2 twice (spp_net, fast_rcnn, faster_rcnn) has no feature
      // map for an image under 4 px a side; the shape check that notices says so in its
      // own words.
      throw FileError(path, fmt::format("{}x{} image too small for this network ({})", img.width,
                                        img.height, e.what()));
    }
    const ImageResult& r = p.result;
    fs::create_directories(s.out_dir);
    const std::string stem = (fs::path(s.out_dir) / fs::path(path).stem()).string();
    const std::string png = stem + "." + s.program + ".png";
    std::vector<TruthBox> truth;
    nlohmann::json truth_json = nlohmann::json::array();
    if (s.args.gt) {
      const auto found = truth_of.find(path);
      if (!found && !s.args.quiet)
        fmt::print(stderr, "note: {}: no annotations.json beside it lists the image: no ground "
                           "truth to draw (--gt)\n", path);
      // Annotated on the file's pixels: scaled like the photo when it was reduced.
      const float sx = float(img.width) / photo.file_width, sy = float(img.height) / photo.file_height;
      for (const TruthBox& t : found.value_or(std::vector<TruthBox>{})) {
        truth.push_back({Box{t.box.x1 * sx, t.box.y1 * sy, t.box.x2 * sx, t.box.y2 * sy}, t.label});
        const Box& b = truth.back().box;
        truth_json.push_back({{"class", t.label}, {"box_xyxy", {b.x1, b.y1, b.x2, b.y2}}});
      }
    }
    save_image(png, draw_detections(img, r.detections, s.classes, truth));
    nlohmann::json entry = {{"image", path},
                            {"proposals", p.proposals},
                            {"proposal_seconds", r.proposal_seconds},
                            {"seconds", r.seconds},
                            {"detections", detections_json(r.detections, s.classes, img.width, img.height)},
                            {"annotated", png}};
    if (photo.reduced()) entry["resized_from"] = {photo.file_width, photo.file_height};
    if (s.args.gt) entry["ground_truth"] = truth_json;
    write_file_atomic(stem + "." + s.program + ".json", entry.dump(2) + "\n");
    // A one-shot detector (yolo, ssd) has no proposal stage to report.
    if (!s.args.json && p.proposals == 0 && r.proposal_seconds == 0)
      fmt::print("{}: {} detections with {} >= {:.2f} ({:.3f} s) -> {}, .json\n", path,
                 r.detections.size(), s.score_name, s.threshold, r.seconds, png);
    else if (!s.args.json)
      fmt::print("{}: {} detections with {} >= {:.2f} from {} proposals ({:.3f} s + {:.3f} s "
                 "proposals) -> {}, .json\n",
                 path, r.detections.size(), s.score_name, s.threshold, p.proposals, r.seconds,
                 r.proposal_seconds, png);
    all.push_back(entry);
  }
  output_result(s.args, "predict", all);
  return 0;
}

int predict_with_proposals(
    const std::vector<std::string>& images, const ProposalOptions& po, const PredictSettings& s,
    const std::function<ImageResult(const Image&, const std::vector<Box>&)>& detect) {
  return predict_images(images, s, [&](const std::string&, const Image& img) {
    const auto t0 = Clock::now();
    const std::vector<Box> props = proposals_of(img, po);
    const double proposal_seconds = seconds_since(t0);
    PredictedImage p{detect(img, props), static_cast<int64_t>(props.size())};
    p.result.proposal_seconds = proposal_seconds;
    return p;
  });
}

}  // namespace dl::cli
