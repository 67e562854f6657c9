// Images: file round trips and refusals, transforms and drawing on tiny images whose
// every pixel is computed by hand.
#include <boost/test/unit_test.hpp>
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <unistd.h>

#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "tensor/rng.h"
#include "util/files.h"

using namespace dl;
namespace fs = std::filesystem;

namespace {

// A scratch directory per test process, removed at exit.
struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("detlab_test_image_" + std::to_string(getpid()));
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

Image random_image(int w, int h, int c, uint64_t seed) {
  Rng rng(seed);
  Image img(w, h, c);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng.below(256));
  return img;
}

Image grey(int w, int h, std::initializer_list<int> values) {
  Image img(w, h, 1);
  size_t i = 0;
  for (int v : values) img.pixels.at(i++) = static_cast<uint8_t>(v);
  return img;
}

// The set of (x, y) whose pixel differs from `value` in channel 0.
std::set<std::pair<int, int>> changed(const Image& img, uint8_t value) {
  std::set<std::pair<int, int>> s;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (img.at(x, y, 0) != value) s.insert({x, y});
  return s;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

// Checks that loading throws FileError whose message names the file and contains `what`.
void expect_file_error(const std::string& path, const std::string& what,
                       int64_t max_pixels = kDefaultMaxPixels) {
  try {
    load_image(path, 3, max_pixels);
    BOOST_ERROR("no error for " << path);
  } catch (const FileError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find(path) != std::string::npos, msg);
    BOOST_TEST(msg.find(what) != std::string::npos, msg);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_io)

BOOST_AUTO_TEST_CASE(png_round_trip_is_exact_for_1_3_4_channels) {
  TempDir tmp;
  for (int c : {1, 3, 4}) {
    const Image img = random_image(7, 5, c, 10 + c);
    const std::string path = tmp.path("rt" + std::to_string(c) + ".png");
    save_image(path, img);
    const Image back = load_image(path, 0);
    BOOST_TEST(back.width == 7);
    BOOST_TEST(back.height == 5);
    BOOST_TEST(back.channels == c);
    BOOST_TEST(back.pixels == img.pixels);
  }
  // No temporary file is left next to the output.
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.dir)) files += e.is_regular_file();
  BOOST_TEST(files == 3);
}

BOOST_AUTO_TEST_CASE(jpeg_round_trip_is_close_on_smooth_image) {
  TempDir tmp;
  Image img(32, 24, 3);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 32; ++x) {
      img.at(x, y, 0) = static_cast<uint8_t>(x * 8);
      img.at(x, y, 1) = static_cast<uint8_t>(y * 10);
      img.at(x, y, 2) = 128;
    }
  save_image(tmp.path("a.jpg"), img, 95);
  const Image back = load_image(tmp.path("a.jpg"));
  BOOST_REQUIRE(back.pixels.size() == img.pixels.size());
  double err = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) err += std::abs(img.pixels[i] - back.pixels[i]);
  BOOST_TEST(err / img.pixels.size() < 3.0);
}

BOOST_AUTO_TEST_CASE(load_converts_channels) {
  TempDir tmp;
  Image img(2, 1, 3);
  img.at(0, 0, 0) = 255;  // red
  img.at(1, 0, 1) = 255;  // green
  save_image(tmp.path("c.png"), img);
  const Image g = load_image(tmp.path("c.png"), 1);
  BOOST_TEST(g.channels == 1);
  BOOST_TEST(g.at(0, 0) > 0);
  BOOST_TEST(g.at(1, 0) > g.at(0, 0));  // green is brighter than red in luma
  const Image rgba = load_image(tmp.path("c.png"), 4);
  BOOST_TEST(rgba.at(0, 0, 3) == 255);
}

BOOST_AUTO_TEST_CASE(bad_files_give_file_error_naming_the_path) {
  TempDir tmp;
  expect_file_error(tmp.path("missing.png"), "missing.png");
  write_bytes(tmp.path("empty.png"), {});
  expect_file_error(tmp.path("empty.png"), "empty");

  Rng rng(5);
  std::vector<uint8_t> junk(500);
  for (auto& b : junk) b = static_cast<uint8_t>(rng.below(256));
  write_bytes(tmp.path("junk.png"), junk);
  expect_file_error(tmp.path("junk.png"), "not a PNG/JPEG/BMP");

  // A real PNG and JPEG cut in half: the header parses, the data does not.
  const Image img = random_image(40, 30, 3, 7);
  for (const std::string ext : {"png", "jpg"}) {
    save_image(tmp.path("full." + ext), img);
    std::vector<uint8_t> bytes = read_file_bytes(tmp.path("full." + ext));
    bytes.resize(bytes.size() / 2);
    write_bytes(tmp.path("half." + ext), bytes);
    // (A PNG's cut IDAT chunk is seen before stb allocates for it: image_io.cpp.)
    expect_file_error(tmp.path("half." + ext), ext == "png" ? "truncated PNG" : "cannot decode");
  }

  // Over a configured limit: 40x30 = 1200 pixels.
  expect_file_error(tmp.path("full.png"), "over the limit", 1199);
  BOOST_TEST(load_image(tmp.path("full.png"), 3, 1200).width == 40);

  // A PNG header claiming 9000x9000 (over the default 8192^2): refused from the
  // header alone, before any pixel memory is allocated.
  std::vector<uint8_t> huge = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A,  // signature
                               0, 0, 0, 13, 'I', 'H', 'D', 'R',                 // chunk
                               0, 0, 0x23, 0x28, 0, 0, 0x23, 0x28,             // 9000 x 9000
                               8, 2, 0, 0, 0, 0, 0, 0, 0};                     // RGB8, crc
  write_bytes(tmp.path("huge.png"), huge);
  expect_file_error(tmp.path("huge.png"), "9000x9000");
  // Sizes stb will not even describe (over 2^30 bytes of pixels: it answers "unknown image
  // type") are read from the header and called too large: a 100000^2 PNG, a JPEG whose
  // frame header says 60000 x 60000 and a BMP of 70000 x 70000.
  huge[16] = 0, huge[17] = 0x01, huge[18] = 0x86, huge[19] = 0xa0;  // 100000 = 0x0186a0
  huge[20] = 0, huge[21] = 0x01, huge[22] = 0x86, huge[23] = 0xa0;
  write_bytes(tmp.path("huge2.png"), huge);
  expect_file_error(tmp.path("huge2.png"), "100000x100000");
  std::vector<uint8_t> jpg = read_file_bytes(tmp.path("full.jpg"));
  for (size_t at = 2; at + 9 < jpg.size(); at += 2 + (jpg[at + 2] << 8 | jpg[at + 3]))
    if (jpg[at + 1] == 0xc0) {
      jpg[at + 5] = jpg[at + 7] = 60000 >> 8;
      jpg[at + 6] = jpg[at + 8] = 60000 & 0xff;
      break;
    }
  write_bytes(tmp.path("huge.jpg"), jpg);
  expect_file_error(tmp.path("huge.jpg"), "60000x60000");
  std::vector<uint8_t> bmp(54, 0);
  bmp[0] = 'B', bmp[1] = 'M';
  bmp[18] = bmp[22] = 0x70, bmp[19] = bmp[23] = 0x11, bmp[20] = bmp[24] = 0x01;  // 70000
  bmp[26] = 1, bmp[28] = 24;
  write_bytes(tmp.path("huge.bmp"), bmp);
  expect_file_error(tmp.path("huge.bmp"), "70000x70000");

  // A JPEG Huffman table (DHT) defining more than 256 codes: Debian 12's stb_image writes
  // past a 257-byte array while building it (found by tests/fuzz/fuzz_image.cpp), so the
  // table is refused before stb reads the file.
  std::vector<uint8_t> dht = read_file_bytes(tmp.path("full.jpg"));
  std::vector<uint8_t> bad_table = {0xff, 0xc4, 0x00, 0x13, 0x00};  // DHT, length 19, DC 0
  for (int i = 0; i < 16; ++i) bad_table.push_back(i < 2 ? 0xff : 0);  // 510 codes
  dht.insert(dht.begin() + 2, bad_table.begin(), bad_table.end());
  write_bytes(tmp.path("dht.jpg"), dht);
  expect_file_error(tmp.path("dht.jpg"), "Huffman table");
  // A scan that decodes with a Huffman table no DHT segment defined: stb's tables are then
  // uninitialised memory, and decoding through them read out of bounds (fuzz_image). Every
  // DHT of the baseline file becomes an APP1 segment, which stb skips by its length.
  std::vector<uint8_t> no_dht = read_file_bytes(tmp.path("full.jpg"));
  int renamed = 0;
  for (size_t at = 2; at + 3 < no_dht.size() && no_dht[at + 1] != 0xda;
       at += 2 + (no_dht[at + 2] << 8 | no_dht[at + 3]))
    if (no_dht[at + 1] == 0xc4) no_dht[at + 1] = 0xe1, ++renamed;
  BOOST_TEST_REQUIRE(renamed > 0);
  write_bytes(tmp.path("no_dht.jpg"), no_dht);
  expect_file_error(tmp.path("no_dht.jpg"), "no DHT segment before it defines");

  // Saving: unknown extension and inconsistent images are refused too.
  BOOST_CHECK_THROW(save_image(tmp.path("x.gif"), img), FileError);
  BOOST_CHECK_THROW(save_image(tmp.path("x.png"), Image()), FileError);
}

BOOST_AUTO_TEST_CASE(real_sample_photos_load) {
  const std::string dir = std::string(DETLAB_SOURCE_DIR) + "/data/samples";
  BOOST_TEST_REQUIRE(fs::exists(dir + "/skimage/astronaut.png"),
                     dir << " is missing: run `make data` (tools/fetch-data.sh) first");
  struct Expect { const char* file; int w, h, c; };
  const Expect expect[] = {{"skimage/astronaut.png", 512, 512, 3}, {"skimage/chelsea.png", 451, 300, 3},
                           {"skimage/coffee.png", 600, 400, 3},    {"skimage/brick.png", 512, 512, 1},
                           {"skimage/grass.png", 512, 512, 1},     {"skimage/gravel.png", 512, 512, 1},
                           {"darknet/dog.jpg", 768, 576, 3},       {"darknet/person.jpg", 640, 424, 3},
                           {"darknet/horses.jpg", 773, 512, 3}};
  for (const Expect& e : expect) {
    const Image img = load_image(dir + "/" + e.file, 0);
    BOOST_TEST(img.width == e.w, e.file);
    BOOST_TEST(img.height == e.h, e.file);
    BOOST_TEST(img.channels == e.c, e.file);
  }
  // Chelsea is a ginger cat: the mean colour is more red than blue.
  const std::vector<uint8_t> mean = image_mean(load_image(dir + "/skimage/chelsea.png"));
  BOOST_TEST(mean[0] > mean[2] + 20);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(transforms)

BOOST_AUTO_TEST_CASE(resize_bilinear_half_pixel_centres) {
  // Upsampling 2x2 -> 4x4: output centres map to -0.25, 0.25, 0.75, 1.25 in input
  // index space (clamped at the border), so a row [0, 100] becomes [0, 25, 75, 100].
  const Image src = grey(2, 2, {0, 100, 200, 40});
  const Image up = resize_bilinear(src, 4, 4);
  BOOST_TEST(up.at(0, 0) == 0);
  BOOST_TEST(up.at(1, 0) == 25);
  BOOST_TEST(up.at(2, 0) == 75);
  BOOST_TEST(up.at(3, 0) == 100);
  BOOST_TEST(up.at(0, 3) == 200);
  BOOST_TEST(up.at(3, 3) == 40);
  // (1, 1): 0.75 * (0.75*0 + 0.25*100) + 0.25 * (0.75*200 + 0.25*40) = 58.75 -> 59
  BOOST_TEST(up.at(1, 1) == 59);
  // Downsampling by exactly 2 averages 2x2 blocks.
  const Image src4 = grey(4, 2, {0, 40, 100, 100, 80, 0, 10, 30});
  const Image down = resize_bilinear(src4, 2, 1);
  BOOST_TEST(down.at(0, 0) == 30);  // (0 + 40 + 80 + 0) / 4
  BOOST_TEST(down.at(1, 0) == 60);  // (100 + 100 + 10 + 30) / 4
  // Same size is the identity.
  const Image r = random_image(5, 4, 3, 1);
  BOOST_TEST(resize_bilinear(r, 5, 4).pixels == r.pixels);
  BOOST_CHECK_THROW(resize_bilinear(r, 0, 4), ShapeError);
}

// The fast warp against its plain definition: byte-identical for random regions
// (inside, straddling and past the border, up- and down-scaling, odd sizes, 1x1 output),
// both borders, 1, 3 and 4 channels, with and without a fill colour.
BOOST_AUTO_TEST_CASE(warp_region_matches_reference_bit_for_bit) {
  Rng rng(77);
  int cases = 0;
  for (int channels : {1, 3, 4})
    for (Border border : {Border::Constant, Border::Clamp})
      for (int k = 0; k < 60; ++k) {
        const int w = 1 + static_cast<int>(rng.below(40)), h = 1 + static_cast<int>(rng.below(40));
        const Image img = random_image(w, h, channels, 1000 + k);
        const float x0 = rng.uniform(-0.5f * w, 1.2f * w), y0 = rng.uniform(-0.5f * h, 1.2f * h);
        const float x1 = x0 + rng.uniform(-2.0f, 1.5f * w), y1 = y0 + rng.uniform(-2.0f, 1.5f * h);
        const int ow = k == 0 ? 1 : 1 + static_cast<int>(rng.below(67));
        const int oh = k == 0 ? 1 : 1 + static_cast<int>(rng.below(67));
        const std::vector<uint8_t> fill =
            k % 3 == 0 ? std::vector<uint8_t>{} : std::vector<uint8_t>{17, 200, 3};
        const Image fast = warp_region(img, x0, y0, x1, y1, ow, oh, fill, border);
        const Image ref = warp_region_reference(img, x0, y0, x1, y1, ow, oh, fill, border);
        BOOST_TEST((fast.pixels == ref.pixels), "case " << k << " channels " << channels);
        ++cases;
      }
  // The exact resizes the scene generator makes: 28x28 items and coarse noise grids.
  for (int size : {4, 17, 40, 77, 112, 128}) {
    const Image item = random_image(28, 28, 1, size);
    BOOST_TEST((resize_bilinear(item, size, size).pixels ==
                warp_region_reference(item, 0, 0, 28, 28, size, size, {}, Border::Clamp).pixels));
    ++cases;
  }
  // Outputs above 65,536 samples are made in 8 blocks of rows, in parallel: each block
  // starts its cached rows afresh.
  const int threads_before = omp_get_max_threads();
  for (Border border : {Border::Constant, Border::Clamp}) {
    const Image img = random_image(37, 23, 3, 5);
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const Image fast = warp_region(img, -3.5f, 2.25f, 40.0f, 19.0f, 301, 263, {9, 8, 7}, border);
      BOOST_TEST((fast.pixels ==
                  warp_region_reference(img, -3.5f, 2.25f, 40.0f, 19.0f, 301, 263, {9, 8, 7}, border)
                      .pixels));
      ++cases;
    }
  }
  omp_set_num_threads(threads_before);
  BOOST_TEST(cases == 370);
  BOOST_CHECK_THROW(warp_region_reference(random_image(2, 2, 1, 1), 0, 0, 1, 1, 0, 3), ShapeError);
}

BOOST_AUTO_TEST_CASE(crop_and_pad_fill_outside) {
  const Image src = grey(3, 2, {1, 2, 3, 4, 5, 6});
  const Image c = crop(src, 1, -1, 3, 3, {9});
  // rows: y=-1 all fill; y=0: 2 3 fill; y=1: 5 6 fill
  BOOST_TEST(c.pixels == std::vector<uint8_t>({9, 9, 9, 2, 3, 9, 5, 6, 9}));
  const Image p = pad(src, 1, 0, 0, 1, {7});
  BOOST_TEST(p.width == 4);
  BOOST_TEST(p.height == 3);
  BOOST_TEST(p.pixels == std::vector<uint8_t>({7, 1, 2, 3, 7, 4, 5, 6, 7, 7, 7, 7}));
}

BOOST_AUTO_TEST_CASE(rcnn_warp_adds_context_pixels) {
  const Image img = random_image(8, 8, 3, 3);
  // Box 4 px wide to an 8 px output with 2 px context: the box maps onto the inner
  // 4 px at scale 1, so the dilated region is the whole image, sampled at centres.
  const Image same = warp_box_with_context(img, 2, 2, 6, 6, 8, 2);
  BOOST_TEST(same.pixels == img.pixels);
  // Shifted box: context past the image border gets the fill colour.
  const Image shifted = warp_box_with_context(img, 4, 4, 8, 8, 8, 2, {1, 2, 3});
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c) {
        const uint8_t want = (x < 6 && y < 6) ? img.at(x + 2, y + 2, c) : static_cast<uint8_t>(c + 1);
        BOOST_TEST(shifted.at(x, y, c) == want);
      }
  // R-CNN's default: 227 output, 16 px context; a 2x-wide box is squeezed anisotropically.
  const Image w = warp_box_with_context(img, 0, 0, 8, 4, 227, 16);
  BOOST_TEST(w.width == 227);
  BOOST_TEST(w.height == 227);
  BOOST_CHECK_THROW(warp_box_with_context(img, 0, 0, 8, 4, 32, 16), ShapeError);
  // image_mean rounds per channel.
  BOOST_TEST(image_mean(grey(3, 1, {0, 1, 1})) == std::vector<uint8_t>({1}));
}

BOOST_AUTO_TEST_CASE(tensor_conversion_and_normalisation) {
  Image img(2, 1, 3);
  img.pixels = {10, 20, 30, 40, 50, 60};
  Tensor t = image_to_tensor(img, 1.0f);
  BOOST_TEST(t.shape() == Shape({3, 1, 2}));
  BOOST_TEST(t.to_vector() == std::vector<float>({10, 40, 20, 50, 30, 60}));
  BOOST_TEST(tensor_to_image(t, 1.0f).pixels == img.pixels);
  Tensor b = images_to_batch({img, img}, 1.0f);
  BOOST_TEST(b.shape() == Shape({2, 3, 1, 2}));
  normalize_channels_(b, {10, 20, 30}, {10, 10, 10});
  BOOST_TEST(b.to_vector() == std::vector<float>({0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3}));
  BOOST_CHECK_THROW(images_to_batch({img, Image(3, 1, 3)}), ShapeError);
  BOOST_CHECK_THROW(normalize_channels_(b, {0, 0}, {1, 1}), ShapeError);
  // Out-of-range floats are clamped when converting back.
  Tensor f({1, 1, 3}, {-0.5f, 0.5f, 2.0f});
  BOOST_TEST(tensor_to_image(f).pixels == std::vector<uint8_t>({0, 128, 255}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(draw)

BOOST_AUTO_TEST_CASE(rectangle_outline_sets_exact_pixels) {
  Image img(6, 6, 3, 0);
  draw_rect(img, 1, 1, 5, 4, Color{255, 0, 0}, 1);
  // Columns 1..4, rows 1..3; the middle row only at its two ends.
  std::set<std::pair<int, int>> want = {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {1, 2},
                                        {4, 2}, {1, 3}, {2, 3}, {3, 3}, {4, 3}};
  BOOST_TEST((changed(img, 0) == want));
  BOOST_TEST(img.at(1, 1, 1) == 0);  // only red
  // Thickness 2 fills this 3-row box completely; clipping at the border is safe.
  Image img2(6, 6, 1, 0);
  draw_rect(img2, 1, 1, 5, 4, Color{255, 255, 255}, 2);
  BOOST_TEST(changed(img2, 0).size() == 12u);
  Image img3(6, 6, 1, 0);
  draw_rect(img3, -3, -3, 6, 6, Color{255, 255, 255}, 1);  // only right/bottom edges visible
  BOOST_TEST(changed(img3, 0).size() == 11u);
  BOOST_TEST(img3.at(5, 0) == 255);
  BOOST_TEST(img3.at(0, 5) == 255);
  // Absurd coordinates are clipped away, not undefined behaviour.
  Image img4(4, 4, 1, 0);
  draw_rect(img4, -1e30f, std::nanf(""), 1e30f, 2, Color{255, 255, 255}, 1);
  draw_line(img4, -1e30f, 1, 1e30f, 1, Color{255, 255, 255}, 1);
  fill_circle(img4, std::nanf(""), 1, 1e30f, Color{255, 255, 255});
  BOOST_TEST(img4.at(0, 1) == 255);
}

BOOST_AUTO_TEST_CASE(mask_blends_only_masked_pixels) {
  Image img(3, 2, 3, 100);
  const std::vector<uint8_t> mask = {1, 0, 0, 0, 1, 1};
  draw_mask(img, mask.data(), 3, 2, Color{200, 0, 101}, 0.5f);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      const bool on = mask[y * 3 + x] != 0;
      BOOST_TEST(img.at(x, y, 0) == (on ? 150 : 100));
      BOOST_TEST(img.at(x, y, 1) == (on ? 50 : 100));
      BOOST_TEST(img.at(x, y, 2) == (on ? 101 : 100));  // 100.5 rounds up
    }
  BOOST_CHECK_THROW(draw_mask(img, mask.data(), 2, 3, Color{}, 0.5f), ShapeError);
}

BOOST_AUTO_TEST_CASE(lines_and_circles) {
  Image h(7, 5, 1, 0);
  draw_line(h, 1, 2, 5, 2, Color{255, 255, 255}, 1);
  BOOST_TEST((changed(h, 0) == std::set<std::pair<int, int>>{{1, 2}, {2, 2}, {3, 2}, {4, 2}, {5, 2}}));
  Image d(5, 5, 1, 0);
  draw_line(d, 0, 0, 3, 3, Color{255, 255, 255}, 1);
  BOOST_TEST((changed(d, 0) == std::set<std::pair<int, int>>{{0, 0}, {1, 1}, {2, 2}, {3, 3}}));
  // Thickness 3: every pixel within 1.5 of the segment (rows 1..3 here, plus the
  // round caps' reach of one column beyond each end).
  Image t(9, 5, 1, 0);
  draw_line(t, 2, 2, 6, 2, Color{255, 255, 255}, 3);
  BOOST_TEST(changed(t, 0).size() == 3u * 5 + 2 * 3);
  Image c(5, 5, 1, 0);
  fill_circle(c, 2, 2, 1, Color{255, 255, 255});
  BOOST_TEST((changed(c, 0) == std::set<std::pair<int, int>>{{2, 1}, {1, 2}, {2, 2}, {3, 2}, {2, 3}}));
  // A skeleton skips unlabelled joints and the limbs that touch them.
  Image s(10, 10, 1, 0);
  draw_skeleton(s, {{1, 1, 2}, {8, 1, 2}, {5, 8, 0}}, {{0, 1}, {1, 2}}, Color{255, 255, 255}, 1, 0);
  std::set<std::pair<int, int>> row;
  for (int x = 1; x <= 8; ++x) row.insert({x, 1});
  BOOST_TEST((changed(s, 0) == row));
}

BOOST_AUTO_TEST_CASE(text_draws_inside_its_box_only) {
  Image img(80, 30, 3, 0);
  const Color ink{255, 255, 0}, bg{0, 0, 200};
  const TextBox box = draw_text(img, 3, 4, "Hi 42", ink, bg, 1);
  BOOST_TEST(box.width > 10);
  BOOST_TEST(box.height > 5);
  int ink_pixels = 0, bg_pixels = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const bool inside = x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
      const bool is_ink = img.at(x, y, 0) == 255 && img.at(x, y, 2) == 0;
      const bool is_bg = img.at(x, y, 2) == 200;
      if (!inside) BOOST_TEST((img.at(x, y, 0) == 0 && img.at(x, y, 2) == 0));
      if (inside) BOOST_TEST((is_ink || is_bg));
      ink_pixels += is_ink;
      bg_pixels += is_bg;
    }
  BOOST_TEST(ink_pixels > 10);
  BOOST_TEST(bg_pixels > ink_pixels);
  // Scale 2 doubles the glyph box.
  const TextBox b2 = text_box(0, 0, "Hi 42", 2);
  BOOST_TEST(b2.width - 2 == 2 * (box.width - 2));
}

BOOST_AUTO_TEST_CASE(palettes) {
  std::set<std::tuple<int, int, int>> colours;
  for (int i = 0; i < 20; ++i) {
    const Color c = palette_color(i);
    colours.insert({c.r, c.g, c.b});
  }
  BOOST_TEST(colours.size() == 20u);
  BOOST_TEST(palette_color(21).r == palette_color(1).r);
  BOOST_TEST(palette_color(-1).g == palette_color(19).g);
  // VOC colour map: 1 = (128,0,0), 2 = (0,128,0), 3 = (128,128,0), 8 = (64,0,0),
  // 15 = (192,128,128), 255 = (224,224,192).
  BOOST_TEST(voc_palette_color(1).r == 128);
  BOOST_TEST(voc_palette_color(2).g == 128);
  BOOST_TEST(voc_palette_color(8).r == 64);
  const Color p = voc_palette_color(15);
  BOOST_TEST((p.r == 192 && p.g == 128 && p.b == 128));
  const Color e = voc_palette_color(255);
  BOOST_TEST((e.r == 224 && e.g == 224 && e.b == 192));
  for (int i = 0; i < 256; ++i) BOOST_TEST(voc_label_of(voc_palette_color(i)) == i);
  BOOST_TEST(voc_label_of(Color{1, 2, 3}) == -1);
}

BOOST_AUTO_TEST_SUITE_END()

// Photos larger than the detectors' working size are reduced by a box filter: every
// output pixel the rounded mean of the block it covers, the aspect ratio kept.
BOOST_AUTO_TEST_CASE(shrink_to_fit_averages_blocks) {
  const Image small = random_image(30, 20, 3, 3);
  const Image same = shrink_to_fit(small, 30);
  BOOST_TEST(same.pixels == small.pixels);
  const Image img = random_image(12, 6, 3, 4);
  const Image half = shrink_to_fit(img, 6);  // exactly 2 x 2 blocks
  BOOST_REQUIRE(half.width == 6);
  BOOST_REQUIRE(half.height == 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 6; ++x)
      for (int c = 0; c < 3; ++c) {
        const int sum = img.at(2 * x, 2 * y, c) + img.at(2 * x + 1, 2 * y, c) +
                        img.at(2 * x, 2 * y + 1, c) + img.at(2 * x + 1, 2 * y + 1, c);
        BOOST_TEST(half.at(x, y, c) == (sum + 2) / 4);
      }
  // 3000 x 1000 into 1024: 1024 x 341 (1000 * 1024 / 3000 = 341.3), constant stays constant.
  const Image wide = shrink_to_fit(Image(3000, 1000, 1, 77), 1024);
  BOOST_TEST(wide.width == 1024);
  BOOST_TEST(wide.height == 341);
  BOOST_TEST(std::set<uint8_t>(wide.pixels.begin(), wide.pixels.end()) == std::set<uint8_t>{77});
}
