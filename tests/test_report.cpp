// The HTML report (src/lessons/common/report.h): the builder escapes text and links files
// relative to the page; a program's eval / predict --report and compare --report write a
// page whose every picture and link resolves to a file, with the tables of the JSON the
// run printed; and, when Debian's chromium is installed, a real headless browser renders
// the page: its DOM holds the tables, and its screenshot shows the pictures' pixels.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "image/image.h"
#include "lessons/common/report.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;

namespace {

const detlab_test::Program sliding_window{"sliding_window"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("report_data", 32, 4); }

// DIR/m.safetensors (+ m.svg, its training curves): the least sliding_window trains.
std::string tiny_model(const std::string& dir) {
  const std::string model = dir + "/m.safetensors";
  if (!fs::exists(model)) {
    const Run t = sliding_window("train --scratch --quiet --epochs 1 --batch 32 --threads 1 "
                                 "--scales 20,40 --data " + tiny_data() + " --model " + model,
                                 dir);
    BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  }
  return model;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  return out;
}

// Every src="..." and href="..." of the page, as files relative to its folder.
std::vector<std::string> referenced_files(const std::string& page, const char* attribute) {
  const std::string html = dl::read_file_text(page);
  const std::regex re(std::string(attribute) + "=\"([^\"]+)\"");
  std::vector<std::string> files;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
    files.push_back((fs::path(page).parent_path() / url_decode((*it)[1].str())).string());
  return files;
}

void check_references_resolve(const std::string& page) {
  for (const char* attr : {"src", "href"})
    for (const std::string& f : referenced_files(page, attr))
      BOOST_TEST(fs::exists(f), page << ": " << attr << " " << f << " is not there");
}

// --- the browser --------------------------------------------------------------------------

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

// chromium headless on the page: --screenshot=PNG (a window of w x h CSS pixels at scale 1)
// or, with png empty, --dump-dom into dom_file. No sandbox: the tests may run as root.
int run_chromium(const std::string& page, const std::string& dir, const std::string& png,
                 const std::string& dom_file) {
  const std::string flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars "
                            "--force-device-scale-factor=1 --user-data-dir=" + dir + "/chromium ";
  const std::string url = "file://" + fs::absolute(page).string();
  const std::string cmd =
      png.empty() ? "chromium " + flags + "--dump-dom '" + url + "' >" + dom_file + " 2>" + dir + "/chromium.err"
                  : "chromium " + flags + "--window-size=1000,1400 --screenshot=" + png + " '" + url +
                        "' >/dev/null 2>" + dir + "/chromium.err";
  return std::system(("timeout 60 " + cmd).c_str());
}

// Where `patch` (w x h at (px, py) of `picture`) appears in `shot` pixel for pixel (each
// channel within `tol`: the browser may convert colours): its top-left corner, or (-1, -1).
std::pair<int, int> find_patch(const dl::Image& shot, const dl::Image& picture, int px, int py,
                               int w, int h, int tol) {
  for (int y = 0; y + h <= shot.height; ++y)
    for (int x = 0; x + w <= shot.width; ++x) {
      bool same = true;
      for (int dy = 0; dy < h && same; ++dy)
        for (int dx = 0; dx < w && same; ++dx)
          for (int c = 0; c < 3 && same; ++c)
            same = std::abs(int(shot.at(x + dx, y + dy, c)) - int(picture.at(px + dx, py + dy, c))) <= tol;
      if (same) return {x, y};
    }
  return {-1, -1};
}

}  // namespace

BOOST_AUTO_TEST_CASE(builder_escapes_text_and_links_relative_to_the_page) {
  const std::string dir = detlab_test::temp_dir("report_builder");
  fs::create_directories(dir + "/pics");
  dl::save_image(dir + "/pics/a b#1.png", dl::Image(4, 4, 3, 200));
  dl::cli::HtmlReport page(dir + "/site/index.html", "<script>alert(1)</script>");
  page.paragraph("a & b < c");
  page.table({"class", "AP"}, {{"<b>", "0.5"}, {"x"}});
  page.image(dir + "/pics/a b#1.png", "a picture");
  page.image(dir + "/pics/missing.png", "gone");
  page.link(dir + "/site/r.json", "json");
  page.save();
  const std::string html = dl::read_file_text(dir + "/site/index.html");
  BOOST_TEST(html.find("<script>") == std::string::npos);
  BOOST_TEST(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  BOOST_TEST(html.find("a &amp; b &lt; c") != std::string::npos);
  BOOST_TEST(html.find("<td>&lt;b&gt;</td><td>0.5</td>") != std::string::npos);
  BOOST_TEST(html.find("<td>x</td><td></td>") != std::string::npos);  // a short row is padded
  // From site/ to pics/: up one folder; the space and '#' encoded.
  BOOST_TEST(html.find("src=\"../pics/a%20b%231.png\"") != std::string::npos);
  BOOST_TEST(html.find("missing.png not found") != std::string::npos);
  BOOST_TEST(html.find("href=\"r.json\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_laid_out_as_tables) {
  const std::string dir = detlab_test::temp_dir("report_json");
  dl::cli::HtmlReport page(dir + "/p.html", "t");
  const json j = {{"accuracy", 0.91234567},
                  {"classes", {"cat", "dog"}},
                  {"confusion", {{5, 1}, {2, 7}}},
                  {"per_class", {{"cat", {{"voc_ap50", 0.5}, {"num_gt", 3}}}, {"dog", {{"voc_ap50", 0.25}, {"num_gt", 4}}}}},
                  {"curve", json::array()}};
  dl::cli::add_json(page, j);
  const std::string html = page.html();
  BOOST_TEST(html.find("<td>accuracy</td><td>0.9123</td>") != std::string::npos);
  // The confusion matrix labelled by the classes beside it.
  BOOST_TEST(html.find("<th>true \\ predicted</th><th>cat</th><th>dog</th>") != std::string::npos);
  BOOST_TEST(html.find("<td>dog</td><td>2</td><td>7</td>") != std::string::npos);
  // The per-class map as one row per class.
  BOOST_TEST(html.find("<th>name</th><th>num_gt</th><th>voc_ap50</th>") != std::string::npos);
  BOOST_TEST(html.find("<td>cat</td><td>3</td><td>0.5</td>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(eval_predict_and_compare_pages) {
  const std::string dir = detlab_test::temp_dir("report_pages");
  const std::string model = tiny_model(dir);
  const std::string data = tiny_data();

  // eval: the page's JSON beside it is the one --json printed; its tables and curves.
  const Run e = sliding_window("eval --json --threads 1 --data " + data + " --model " + model +
                                   " --report " + dir + "/eval/index.html",
                               dir);
  const json printed = detlab_test::json_output(e);
  const std::string eval_page = dir + "/eval/index.html";
  BOOST_REQUIRE(fs::exists(eval_page));
  BOOST_TEST(json::parse(dl::read_file_text(dir + "/eval/index.json")) == printed);
  const std::string html = dl::read_file_text(eval_page);
  BOOST_TEST(html.find("<title>sliding_window eval</title>") != std::string::npos);
  BOOST_TEST(html.find("<td>voc_map50</td>") != std::string::npos);
  for (auto it = printed["per_class"].begin(); it != printed["per_class"].end(); ++it)
    BOOST_TEST(html.find("<td>" + it.key() + "</td>") != std::string::npos, it.key());
  BOOST_TEST(html.find("src=\"../m.svg\"") != std::string::npos);  // the training curves
  check_references_resolve(eval_page);

  // Without --json the text report still prints, and the page is written.
  const Run text = sliding_window("eval --threads 1 --data " + data + " --model " + model +
                                      " --report " + dir + "/eval2/page.html",
                                  dir);
  BOOST_REQUIRE_MESSAGE(text.status == 0, text.err);
  BOOST_TEST(text.out.find("VOC mAP") != std::string::npos);
  BOOST_TEST(fs::exists(dir + "/eval2/page.html"));
  BOOST_TEST(fs::exists(dir + "/eval2/page.json"));

  // predict: each image's picture and JSON file.
  const Run p = sliding_window("predict --threads 1 --model " + model + " --out " + dir +
                                   "/pred --report " + dir + "/pred/index.html " + data +
                                   "/test/images/000001.png",
                               dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  const std::string pred_page = dir + "/pred/index.html";
  const std::vector<std::string> pictures = referenced_files(pred_page, "src");
  BOOST_TEST(std::count_if(pictures.begin(), pictures.end(), [](const std::string& f) {
               return f.find("000001.sliding_window.png") != std::string::npos;
             }) == 1);
  BOOST_TEST(dl::read_file_text(pred_page).find("href=\"index.json\"") != std::string::npos);
  check_references_resolve(pred_page);

  // A page that is not .html is a usage error (PAGE.json would overwrite it).
  BOOST_TEST(sliding_window("eval --data " + data + " --model " + model + " --report " + dir + "/r.json", dir).status == 2);

  // compare: its table and charts.
  fs::create_directories(dir + "/models");
  fs::copy_file(model, dir + "/models/sliding_window.safetensors", fs::copy_options::overwrite_existing);
  const Run c = detlab_test::run_program(
      "compare", "--methods sliding_window --threads 1 --data " + data + " --models " + dir +
                     "/models --out " + dir + "/cmp --report " + dir + "/cmp/index.html",
      dir);
  BOOST_REQUIRE_MESSAGE(c.status == 0, c.err);
  const std::string cmp_html = dl::read_file_text(dir + "/cmp/index.html");
  BOOST_TEST(cmp_html.find("src=\"compare.svg\"") != std::string::npos);
  BOOST_TEST(cmp_html.find("src=\"compare_speed_accuracy.svg\"") != std::string::npos);
  BOOST_TEST(cmp_html.find("<th>method</th>") != std::string::npos);
  BOOST_TEST(cmp_html.find("href=\"compare.json\"") != std::string::npos);
  check_references_resolve(dir + "/cmp/index.html");
}

// The check, in a real browser: --dump-dom returns the page as chromium parsed it (tables
// and cells where the HTML put them; a page it could not load would be empty), and the
// screenshot holds the predicted picture pixel for pixel -- found by searching the
// screenshot for a 24 x 24 patch of the PNG -- which only happens if chromium loaded the
// image through its relative link from the file system. (--dump-dom cannot say whether an
// image loaded: it shows the <img> either way.)
BOOST_AUTO_TEST_CASE(pages_render_in_headless_chromium) {
  if (!have_chromium()) {
    BOOST_TEST_MESSAGE("test_report: chromium not installed, browser check skipped "
                       "(tools/install-deps.sh --browser installs it)");
    return;
  }
  const std::string dir = detlab_test::temp_dir("report_browser");
  const std::string model = tiny_model(dir);
  const std::string data = tiny_data();
  const std::string page = dir + "/site/index.html";
  const Run p = sliding_window("predict --threshold 0 --threads 1 --model " + model + " --out " + dir +
                                   "/pictures --report " + page + " " + data +
                                   "/test/images/000002.png",
                               dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);

  BOOST_REQUIRE_EQUAL(run_chromium(page, dir, "", dir + "/dom.html"), 0);
  const std::string dom = dl::read_file_text(dir + "/dom.html");
  BOOST_TEST(dom.find("<h1>sliding_window predict</h1>") != std::string::npos, dom.substr(0, 400));
  BOOST_TEST(dom.find("<td>detections</td>") == std::string::npos);  // a list: its own table
  BOOST_TEST(dom.find("<th>box_xyxy</th>") != std::string::npos);
  BOOST_TEST(dom.find("src=\"../pictures/000002.sliding_window.png\"") != std::string::npos);

  const std::string shot = dir + "/shot.png";
  BOOST_REQUIRE_EQUAL(run_chromium(page, dir, shot, ""), 0);
  const dl::Image screen = dl::load_image(shot, 3);
  const dl::Image picture = dl::load_image(dir + "/pictures/000002.sliding_window.png", 3);
  BOOST_TEST(screen.width == 1000);
  // The picture's most varied 24 x 24 patch (shapes, boxes, labels): a plain one could
  // match any plain part of the page.
  int best_x = 0, best_y = 0;
  double best_var = -1;
  for (int py = 0; py + 24 <= picture.height; py += 12)
    for (int px = 0; px + 24 <= picture.width; px += 12) {
      double sum = 0, sum2 = 0;
      for (int dy = 0; dy < 24; ++dy)
        for (int dx = 0; dx < 24; ++dx)
          for (int c = 0; c < 3; ++c) {
            const double v = picture.at(px + dx, py + dy, c);
            sum += v;
            sum2 += v * v;
          }
      const double n = 24 * 24 * 3, var = sum2 / n - (sum / n) * (sum / n);
      if (var > best_var) best_var = var, best_x = px, best_y = py;
    }
  BOOST_REQUIRE(best_var > 100);
  const auto [x, y] = find_patch(screen, picture, best_x, best_y, 24, 24, 8);
  BOOST_TEST(x >= 0, "the picture's pixels are not in the screenshot " << shot);
  // ... and it is not a blank page: the screenshot has both dark text and light background.
  int dark = 0;
  for (int i = 0; i < screen.width * screen.height; ++i) dark += screen.pixels[3 * i] < 64;
  BOOST_TEST(dark > 100);
}

// rcnn (through the detectors' shared predict): --gt draws the scene's annotated boxes
// dashed black and white and lists them in the JSON; train shows its proposals' progress.
BOOST_AUTO_TEST_CASE(predict_gt_and_proposal_progress) {
  const detlab_test::Program rcnn{"rcnn"};
  const std::string dir = detlab_test::temp_dir("report_gt");
  const std::string data = tiny_data();
  const std::string model = dir + "/r.safetensors";
  const Run t = rcnn("train --scratch --epochs 1 --steps-per-epoch 1 --batch 8 --threads 1 --limit 3 "
                     "--svm-rounds 0 --cache-dir '' --data " + data + " --model " + model,
                     dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  // 3 train + 3 test scenes, the last line says all are done.
  BOOST_TEST(t.err.find("proposals: 6/6") != std::string::npos, t.err);

  const std::string image = data + "/test/images/000001.png";
  const json with = detlab_test::json_output(
      rcnn("predict --gt --json --threads 1 --cache-dir '' --model " + model + " --out " + dir +
               "/gt " + image, dir))[0];
  // The ground truth as annotations.json has it: [x, y, w, h] -> corners.
  const json coco = json::parse(dl::read_file_text(data + "/test/annotations.json"));
  int64_t id = -1;
  for (const json& im : coco["images"])
    if (im["file_name"].get<std::string>().find("000001.png") != std::string::npos) id = im["id"];
  std::vector<std::vector<float>> expected;
  for (const json& a : coco["annotations"])
    if (a["image_id"] == id) {
      const auto b = a["bbox"].get<std::vector<float>>();
      expected.push_back({b[0], b[1], b[0] + b[2], b[1] + b[3]});
    }
  BOOST_REQUIRE(!expected.empty());
  BOOST_REQUIRE_EQUAL(with["ground_truth"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    BOOST_TEST(with["ground_truth"][i]["box_xyxy"].get<std::vector<float>>() == expected[i],
               boost::test_tools::per_element());
  // Drawn: the first box's top edge (6x enlarged) holds black and white dashes.
  const dl::Image pic = dl::load_image(with["annotated"].get<std::string>(), 3);
  const int y = int(expected[0][1] * 6), x0 = int(expected[0][0] * 6), x1 = int(expected[0][2] * 6);
  int black = 0, white = 0;
  for (int row = y; row <= y + 1; ++row)
    for (int x = x0; x < x1; ++x) {
      const int sum = pic.at(x, row, 0) + pic.at(x, row, 1) + pic.at(x, row, 2);
      black += sum == 0;
      white += sum == 3 * 255;
    }
  BOOST_TEST(black > 4);
  BOOST_TEST(white > 4);
  // Without --gt: no ground truth in the JSON. An image in no COCO split: a note, no failure.
  const json without = detlab_test::json_output(
      rcnn("predict --json --threads 1 --cache-dir '' --model " + model + " --out " + dir + "/nogt " + image, dir))[0];
  BOOST_TEST(!without.contains("ground_truth"));
  fs::create_directories(dir + "/loose");
  fs::copy_file(image, dir + "/loose/x.png", fs::copy_options::overwrite_existing);
  const Run loose = rcnn("predict --gt --threads 1 --cache-dir '' --model " + model + " --out " + dir + "/loose " +
                             dir + "/loose/x.png", dir);
  BOOST_REQUIRE_MESSAGE(loose.status == 0, loose.err);
  BOOST_TEST(loose.err.find("no annotations.json") != std::string::npos, loose.err);
}

// predict writes to out/PROGRAM without --out, as the lessons say (run from DIR).
BOOST_AUTO_TEST_CASE(predict_writes_to_out_program) {
  const std::string dir = detlab_test::temp_dir("report_outdir");
  const std::string model = tiny_model(dir);
  const std::string cmd = "cd " + dir + " && " + std::string(DETLAB_BIN_DIR) +
                          "/sliding_window predict --threads 1 --model " + model + " " + tiny_data() +
                          "/test/images/000001.png >/dev/null 2>&1";
  BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
  BOOST_TEST(fs::exists(dir + "/out/sliding_window/000001.sliding_window.png"));
}

// Every program's --help shows each default: a sentinel (-1, NaN: "decided after
// parsing") never appears as one, and train shows the epochs, batch and rate it uses.
BOOST_AUTO_TEST_CASE(help_shows_defaults) {
  const std::string dir = detlab_test::temp_dir("report_help");
  for (const char* p : {"classify", "classify_localize", "deeppose", "faces", "fast_rcnn", "faster_rcnn",
                        "fcn", "mask_rcnn", "rcnn", "selective_search", "sliding_window", "spp_net",
                        "ssd", "yolo"})
    for (const char* sub : {"train", "eval", "predict", "bench"}) {
      const Run h = detlab_test::run_program(p, std::string(sub) + " --help", dir);
      if (h.status != 0) continue;  // a program without this subcommand
      for (const char* bad : {"=-1", "=nan", "=-nan", "=[]"})
        BOOST_TEST(h.out.find(bad) == std::string::npos, p << " " << sub << " --help shows " << bad);
    }
  const std::string rcnn = detlab_test::run_program("rcnn", "train --help", dir).out;
  BOOST_TEST(rcnn.find("[1 - 100000]=8") != std::string::npos, rcnn);  // --epochs
  BOOST_TEST(rcnn.find("=128") != std::string::npos);                  // --batch
  BOOST_TEST(rcnn.find("POSITIVE=0.003") != std::string::npos);        // --lr
  const std::string ssd = detlab_test::run_program("ssd", "train --help", dir).out;
  BOOST_TEST(ssd.find("[1 - 1048576]=8") != std::string::npos, ssd);  // --batch: images per step
  const std::string classify = detlab_test::run_program("classify", "train --help", dir).out;
  BOOST_TEST(classify.find("=6 (1 with --quick)") != std::string::npos, classify);
}
