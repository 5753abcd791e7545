// Image disarming (G-6.5-C12): every image is decoded and re-encoded, so metadata and data
// hidden after the image's end (polyglot payloads) do not survive, while the pixels do. The
// fixtures are built here with libpng, libjpeg and libtiff.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan::sanitize_internal {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

struct Disarmed {
  Result<Bytes> result;
  std::vector<SanitizeFinding> findings;
};

Disarmed RunImage(const Bytes& in, std::string_view type, std::uint64_t max_pixels = 100'000'000) {
  SanitizeOptions options;
  options.limits.max_image_pixels = max_pixels;
  Context ctx(options);
  Result<Bytes> result = DisarmImage(in, MakeType(type), ctx);
  return {std::move(result), ctx.findings()};
}

const SanitizeFinding* Find(const std::vector<SanitizeFinding>& findings, std::string_view kind) {
  for (const SanitizeFinding& f : findings) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

void Append(Bytes& to, std::string_view s) { to.insert(to.end(), s.begin(), s.end()); }

// A zip local-file header and some bytes: what a PNG/ZIP or JPEG/ZIP polyglot carries.
constexpr std::string_view kZipTail("PK\x03\x04\x14\x00\x00\x00payload.exe", 19);

// ---------------------------------------------------------------------------------------------
// PNG fixtures. libpng's default error handling aborts, which is what a broken fixture deserves.

std::uint32_t Crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char ch : data) {
    crc ^= static_cast<std::uint8_t>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string Be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Chunk(std::string_view type, std::string_view data) {
  const std::string body = std::string(type) + std::string(data);
  return Be32(static_cast<std::uint32_t>(data.size())) + body + Be32(Crc32(body));
}

struct RawImage {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int bit_depth = 8;
  int color_type = PNG_COLOR_TYPE_RGBA;
  Bytes rows;  // As libpng stores them, row after row.
};

void AppendToBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}
void NoFlush(png_structp) {}

Bytes EncodePng(const RawImage& image, bool interlaced, const std::vector<png_color>& palette,
                const std::vector<std::pair<std::string, std::string>>& texts) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, AppendToBytes, NoFlush);
  png_set_IHDR(png, info, image.width, image.height, image.bit_depth, image.color_type,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) {
    png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  }
  std::vector<png_text> text(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    text[i].compression = i % 2 == 0 ? PNG_TEXT_COMPRESSION_NONE : PNG_TEXT_COMPRESSION_zTXt;
    text[i].key = const_cast<char*>(texts[i].first.c_str());
    text[i].text = const_cast<char*>(texts[i].second.c_str());
  }
  if (!text.empty()) png_set_text(png, info, text.data(), static_cast<int>(text.size()));
  png_set_pHYs(png, info, 11811, 11811, PNG_RESOLUTION_METER);  // 300 dpi: kept.
  png_write_info(png, info);
  const std::size_t row_bytes = image.rows.size() / image.height;
  std::vector<png_bytep> rows(image.height);
  for (std::uint32_t y = 0; y < image.height; ++y) {
    rows[y] = const_cast<png_bytep>(image.rows.data() + y * row_bytes);
  }
  png_write_image(png, rows.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

struct PngReadBuffer {
  const Bytes* data;
  std::size_t pos;
};
void ReadFromBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* buffer = static_cast<PngReadBuffer*>(png_get_io_ptr(png));
  ASSERT_LE(buffer->pos + length, buffer->data->size());
  std::memcpy(data, buffer->data->data() + buffer->pos, length);
  buffer->pos += length;
}

// Decodes without any transformation: the stored samples, for exact comparison.
RawImage DecodePng(const Bytes& file) {
  RawImage image;
  PngReadBuffer buffer{&file, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_read_fn(png, &buffer, ReadFromBytes);
  png_read_info(png, info);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  image.width = png_get_image_width(png, info);
  image.height = png_get_image_height(png, info);
  image.bit_depth = png_get_bit_depth(png, info);
  image.color_type = png_get_color_type(png, info);
  const std::size_t row_bytes = png_get_rowbytes(png, info);
  image.rows.resize(row_bytes * image.height);
  std::vector<png_bytep> rows(image.height);
  for (std::uint32_t y = 0; y < image.height; ++y) rows[y] = image.rows.data() + y * row_bytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return image;
}

std::vector<std::string> PngChunkTypes(const Bytes& file) {
  std::vector<std::string> types;
  std::size_t pos = 8;
  while (pos + 12 <= file.size()) {
    const std::uint32_t length = (std::uint32_t{file[pos]} << 24) | (file[pos + 1] << 16) |
                                 (file[pos + 2] << 8) | file[pos + 3];
    types.emplace_back(reinterpret_cast<const char*>(file.data() + pos + 4), 4);
    pos += 12 + length;
  }
  EXPECT_EQ(pos, file.size()) << "chunks do not end at the end of the file";
  return types;
}

RawImage Gradient(std::uint32_t width, std::uint32_t height) {
  RawImage image;
  image.width = width;
  image.height = height;
  for (std::uint32_t y = 0; y < height; ++y) {
    for (std::uint32_t x = 0; x < width; ++x) {
      image.rows.push_back(static_cast<std::uint8_t>(x * 255 / width));
      image.rows.push_back(static_cast<std::uint8_t>(y * 255 / height));
      image.rows.push_back(static_cast<std::uint8_t>((x + y) * 7));
      image.rows.push_back(static_cast<std::uint8_t>(255 - x));
    }
  }
  return image;
}

TEST(ImageDisarm, PngKeepsPixelsDropsTextAndTrailingData) {
  const RawImage original = Gradient(16, 12);
  Bytes png = EncodePng(original, false, {},
                        {{"Comment", "patient name here"}, {"Description", "compressed text"}});
  ASSERT_THAT(PngChunkTypes(png), Contains("tEXt"));
  Append(png, kZipTail);

  Disarmed d = RunImage(png, "png");
  ASSERT_OK(d.result);
  const Bytes& out = *d.result;
  const std::vector<std::string> types = PngChunkTypes(out);  // Also: nothing after IEND.
  EXPECT_THAT(types, Not(Contains("tEXt")));
  EXPECT_THAT(types, Not(Contains("zTXt")));
  EXPECT_THAT(types, Contains("pHYs"));
  EXPECT_EQ(types.back(), "IEND");
  const RawImage decoded = DecodePng(out);
  EXPECT_EQ(decoded.width, original.width);
  EXPECT_EQ(decoded.height, original.height);
  EXPECT_EQ(decoded.color_type, PNG_COLOR_TYPE_RGBA);
  EXPECT_EQ(decoded.rows, original.rows);

  const SanitizeFinding* metadata = Find(d.findings, "metadata");
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->action, SanitizeFinding::Action::kRemoved);
  EXPECT_FALSE(metadata->active);
  EXPECT_THAT(metadata->detail, HasSubstr("tEXt"));
  EXPECT_THAT(metadata->detail, Not(HasSubstr("patient")));
  const SanitizeFinding* trailing = Find(d.findings, "trailing-data");
  ASSERT_NE(trailing, nullptr);
  EXPECT_TRUE(trailing->active);
  EXPECT_EQ(trailing->location, "offset " + std::to_string(png.size() - kZipTail.size()));
}

TEST(ImageDisarm, PngKeepsPaletteSixteenBitAndInterlacedExactly) {
  RawImage palette_image;
  palette_image.width = 9;
  palette_image.height = 7;
  palette_image.bit_depth = 4;
  palette_image.color_type = PNG_COLOR_TYPE_PALETTE;
  for (std::uint32_t y = 0; y < 7; ++y) {
    for (int b = 0; b < 5; ++b) {
      // Nine 4-bit pixels: the last byte's low half is padding, kept zero as libpng reads it.
      const auto byte = static_cast<std::uint8_t>(y * 17 + b);
      palette_image.rows.push_back(b == 4 ? byte & 0xF0 : byte);
    }
  }
  const std::vector<png_color> palette(16, png_color{10, 200, 30});

  RawImage gray16;
  gray16.width = 5;
  gray16.height = 4;
  gray16.bit_depth = 16;
  gray16.color_type = PNG_COLOR_TYPE_GRAY;
  for (int i = 0; i < 5 * 4; ++i) {
    gray16.rows.push_back(static_cast<std::uint8_t>(i * 13));  // High byte first.
    gray16.rows.push_back(static_cast<std::uint8_t>(0xFF - i));
  }

  for (const bool interlaced : {false, true}) {
    for (const RawImage* image : {&palette_image, &gray16}) {
      const Bytes png = EncodePng(*image, interlaced,
                                  image == &palette_image ? palette : std::vector<png_color>{}, {});
      Disarmed d = RunImage(png, "png");
      ASSERT_OK(d.result);
      EXPECT_TRUE(d.findings.empty());
      const RawImage decoded = DecodePng(*d.result);
      EXPECT_EQ(decoded.bit_depth, image->bit_depth);
      EXPECT_EQ(decoded.color_type, image->color_type);
      EXPECT_EQ(decoded.rows, image->rows) << "interlaced " << interlaced;
    }
  }
}

// A header that declares ten billion pixels and then nothing: blocked before any allocation.
TEST(ImageDisarm, PngDeclaringHugeSizeIsBlockedBeforeAllocating) {
  Bytes png;
  Append(png, "\x89PNG\r\n\x1a\n");
  Append(png, Chunk("IHDR", Be32(100000) + Be32(100000) + std::string("\x08\x06\x00\x00\x00", 5)));
  Append(png, Chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8)));
  Append(png, Chunk("IEND", ""));
  Disarmed d = RunImage(png, "png");
  EXPECT_THAT(d.result, StatusIs(StatusCode::kFailedPrecondition));
  const SanitizeFinding* limit = Find(d.findings, "limit-exceeded");
  ASSERT_NE(limit, nullptr);
  EXPECT_EQ(limit->action, SanitizeFinding::Action::kBlocked);
  EXPECT_THAT(limit->detail, HasSubstr("100000 x 100000"));

  SanitizeOptions options;
  Result<SanitizeOutcome> outcome = Sanitize(png, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_THAT(outcome->report.reason, HasSubstr("limit-exceeded"));
}

TEST(ImageDisarm, TruncatedOrCorruptPngIsMalformed) {
  const Bytes png = EncodePng(Gradient(40, 30), false, {}, {});
  for (const std::size_t keep :
       {png.size() / 2, png.size() - 12, std::size_t{20}, std::size_t{8}}) {
    Disarmed d =
        RunImage(Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(keep)), "png");
    EXPECT_THAT(d.result, StatusIs(StatusCode::kInvalidArgument)) << keep;
    if (!d.result.has_value()) {
      EXPECT_THAT(d.result.error().message(), HasSubstr("malformed PNG")) << keep;
    }
  }
  Bytes flipped = png;
  flipped[png.size() / 2] ^= 0xFF;  // Inside IDAT: CRC and zlib errors.
  EXPECT_THAT(RunImage(flipped, "png").result, StatusIs(StatusCode::kInvalidArgument));
}

// ---------------------------------------------------------------------------------------------
// JPEG fixtures.

[[noreturn]] void JpegFixtureError(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  ADD_FAILURE() << "libjpeg: " << message;
  std::abort();
}

std::string ExifWithOrientation(int orientation) {
  std::string exif("Exif\0\0II*\0\x08\0\0\0\x01\0", 16);
  exif += std::string("\x12\x01\x03\x00\x01\x00\x00\x00", 8);
  exif += static_cast<char>(orientation);
  exif += std::string("\0\0\0\0\0\0\0", 7);
  return exif;
}

// An RGB JPEG of `pixels`, with the given APP1 and comment markers.
Bytes EncodeJpeg(const Bytes& pixels, int width, int height, const std::string& exif,
                 const std::string& comment, J_COLOR_SPACE space = JCS_RGB, int components = 3) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  err.error_exit = JpegFixtureError;
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;  // NOLINT(google-runtime-int)
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = components;
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  if (!exif.empty()) {
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, reinterpret_cast<const JOCTET*>(exif.data()),
                      static_cast<unsigned>(exif.size()));
  }
  if (!comment.empty()) {
    jpeg_write_marker(&cinfo, JPEG_COM, reinterpret_cast<const JOCTET*>(comment.data()),
                      static_cast<unsigned>(comment.size()));
  }
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + std::size_t{cinfo.next_scanline} *
                                                            static_cast<std::size_t>(width) *
                                                            static_cast<std::size_t>(components));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

struct DecodedJpeg {
  int width = 0;
  int height = 0;
  Bytes pixels;  // RGB.
};

DecodedJpeg DecodeJpeg(const Bytes& file, J_COLOR_SPACE space = JCS_RGB, int components = 3) {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  err.error_exit = JpegFixtureError;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, file.data(), file.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = space;
  jpeg_start_decompress(&cinfo);
  EXPECT_EQ(cinfo.output_components, components);
  DecodedJpeg out;
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  const std::size_t stride = std::size_t{cinfo.output_width} * cinfo.output_components;
  out.pixels.resize(stride * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + std::size_t{cinfo.output_scanline} * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

// The marker codes before the first scan.
std::vector<int> JpegMarkers(const Bytes& file) {
  std::vector<int> markers;
  std::size_t pos = 2;
  while (pos + 4 <= file.size() && file[pos] == 0xFF) {
    const int marker = file[pos + 1];
    markers.push_back(marker);
    if (marker == 0xDA) break;
    pos += 2 + ((std::size_t{file[pos + 2]} << 8) | file[pos + 3]);
  }
  return markers;
}

Bytes SmoothRgb(int width, int height) {
  Bytes pixels;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      pixels.push_back(static_cast<std::uint8_t>(40 + x * 4));
      pixels.push_back(static_cast<std::uint8_t>(60 + y * 3));
      pixels.push_back(static_cast<std::uint8_t>(120));
    }
  }
  return pixels;
}

TEST(ImageDisarm, JpegDropsExifCommentAndTrailingDataKeepsPicture) {
  const int width = 48;
  const int height = 32;
  const Bytes pixels = SmoothRgb(width, height);
  Bytes jpeg = EncodeJpeg(pixels, width, height, ExifWithOrientation(1), "patient: somebody");
  ASSERT_THAT(JpegMarkers(jpeg), Contains(0xE1));
  ASSERT_THAT(JpegMarkers(jpeg), Contains(0xFE));
  Append(jpeg, kZipTail);

  Disarmed d = RunImage(jpeg, "jpeg");
  ASSERT_OK(d.result);
  const Bytes& out = *d.result;
  EXPECT_THAT(JpegMarkers(out), Not(Contains(0xE1)));
  EXPECT_THAT(JpegMarkers(out), Not(Contains(0xFE)));
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[out.size() - 2], 0xFF);  // Ends with EOI: nothing after it.
  EXPECT_EQ(out[out.size() - 1], 0xD9);

  const DecodedJpeg decoded = DecodeJpeg(out);
  ASSERT_EQ(decoded.width, width);
  ASSERT_EQ(decoded.height, height);
  double total = 0;
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    total += std::abs(int{pixels[i]} - int{decoded.pixels[i]});
  }
  EXPECT_LT(total / static_cast<double>(pixels.size()), 3.0);  // Lossy, but close.

  const SanitizeFinding* metadata = Find(d.findings, "metadata");
  ASSERT_NE(metadata, nullptr);
  EXPECT_FALSE(metadata->active);
  EXPECT_THAT(metadata->detail, HasSubstr("EXIF"));
  EXPECT_THAT(metadata->detail, HasSubstr("comments"));
  EXPECT_THAT(metadata->detail, Not(HasSubstr("somebody")));
  const SanitizeFinding* trailing = Find(d.findings, "trailing-data");
  ASSERT_NE(trailing, nullptr);
  EXPECT_TRUE(trailing->active);
}

TEST(ImageDisarm, JpegExifOrientationIsAppliedToThePixels) {
  // 16 x 8: left half black, right half white. Orientation 6: shown turned 90 degrees clockwise,
  // so the upright picture is 8 x 16 with the black half on top.
  const int width = 16;
  const int height = 8;
  Bytes pixels;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) pixels.insert(pixels.end(), 3, x < 8 ? 0 : 255);
  }
  Disarmed d = RunImage(EncodeJpeg(pixels, width, height, ExifWithOrientation(6), ""), "jpeg");
  ASSERT_OK(d.result);
  const DecodedJpeg decoded = DecodeJpeg(*d.result);
  ASSERT_EQ(decoded.width, 8);
  ASSERT_EQ(decoded.height, 16);
  EXPECT_LT(decoded.pixels[std::size_t{2 * 8 + 4} * 3], 40);    // Row 2: black.
  EXPECT_GT(decoded.pixels[std::size_t{13 * 8 + 4} * 3], 215);  // Row 13: white.
}

TEST(ImageDisarm, JpegGreyAndCmykKeepTheirColourSpace) {
  const int width = 24;
  const int height = 16;
  for (const auto& [space, components] : {std::pair{JCS_GRAYSCALE, 1}, std::pair{JCS_CMYK, 4}}) {
    SCOPED_TRACE(components);
    Bytes pixels;
    for (int i = 0; i < width * height * components; ++i) {
      pixels.push_back(
          static_cast<std::uint8_t>(60 + (i / components) % width * 3 + i % components));
    }
    Disarmed d = RunImage(EncodeJpeg(pixels, width, height, "", "", space, components), "jpeg");
    ASSERT_OK(d.result);
    const DecodedJpeg decoded = DecodeJpeg(*d.result, space, components);
    ASSERT_EQ(decoded.width, width);
    ASSERT_EQ(decoded.height, height);
    ASSERT_EQ(decoded.pixels.size(), pixels.size());
    double total = 0;
    for (std::size_t i = 0; i < pixels.size(); ++i) {
      total += std::abs(int{pixels[i]} - int{decoded.pixels[i]});
    }
    EXPECT_LT(total / static_cast<double>(pixels.size()), 3.0);
  }
}

TEST(ImageDisarm, JpegTruncatedHugeOrCorruptIsRefused) {
  const Bytes jpeg = EncodeJpeg(SmoothRgb(64, 48), 64, 48, "", "");
  for (const std::size_t keep : {jpeg.size() / 2, jpeg.size() - 2, std::size_t{40}}) {
    Disarmed d =
        RunImage(Bytes(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(keep)), "jpeg");
    EXPECT_THAT(d.result, StatusIs(StatusCode::kInvalidArgument)) << keep;
    if (!d.result.has_value()) {
      EXPECT_THAT(d.result.error().message(), HasSubstr("malformed JPEG")) << keep;
    }
  }
  // The frame header (SOF0) patched to declare 60000 x 60000 pixels.
  Bytes huge = jpeg;
  std::size_t sof = 2;
  while (sof + 9 < huge.size() && !(huge[sof] == 0xFF && huge[sof + 1] == 0xC0)) {
    sof += 2 + ((std::size_t{huge[sof + 2]} << 8) | huge[sof + 3]);
  }
  ASSERT_LT(sof + 9, huge.size());
  huge[sof + 5] = 0xEA;  // Height 0xEA60 = 60000.
  huge[sof + 6] = 0x60;
  huge[sof + 7] = 0xEA;  // Width.
  huge[sof + 8] = 0x60;
  Disarmed d = RunImage(huge, "jpeg");
  EXPECT_THAT(d.result, StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_NE(Find(d.findings, "limit-exceeded"), nullptr);

  EXPECT_THAT(RunImage(ToBytes("\xFF\xD8\xFF\xE0garbage"), "jpeg").result,
              StatusIs(StatusCode::kInvalidArgument));
}

// ---------------------------------------------------------------------------------------------
// TIFF fixtures, through real files in a temporary directory.

Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

struct TiffPageSpec {
  std::uint32_t width;
  std::uint32_t height;
  std::uint16_t bits;
  std::uint16_t samples;
  std::uint16_t photometric;
  Bytes rows;  // Packed rows as libtiff's scanlines.
};

TiffPageSpec MakePage(std::uint32_t width, std::uint32_t height, std::uint16_t bits,
                      std::uint16_t samples, std::uint16_t photometric, int seed) {
  TiffPageSpec page{width, height, bits, samples, photometric, {}};
  const std::size_t row_bytes = (std::size_t{width} * samples * bits + 7) / 8;
  for (std::size_t i = 0; i < row_bytes * height; ++i) {
    page.rows.push_back(static_cast<std::uint8_t>((i * 37 + seed) ^ (i >> 3)));
  }
  // Padding bits past the last pixel are not pixels; keep them zero so rows compare equal.
  const std::size_t used_bits = std::size_t{width} * samples * bits % 8;
  if (used_bits != 0) {
    for (std::size_t y = 0; y < height; ++y) {
      page.rows[y * row_bytes + row_bytes - 1] &=
          static_cast<std::uint8_t>(0xFF << (8 - used_bits));
    }
  }
  return page;
}

Bytes WriteTiff(const std::vector<TiffPageSpec>& pages, bool with_metadata,
                std::uint16_t compression = COMPRESSION_NONE) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/in.tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  EXPECT_NE(tif, nullptr);
  for (std::size_t p = 0; p < pages.size(); ++p) {
    const TiffPageSpec& page = pages[p];
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, page.width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, page.height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, page.bits);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, page.samples);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, page.photometric);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 3);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(p),
                 static_cast<std::uint16_t>(pages.size()));
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, 300.0);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, 300.0);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    if (with_metadata) {
      TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, "patient: somebody");
      TIFFSetField(tif, TIFFTAG_SOFTWARE, "Scanner 1.0");
    }
    const std::size_t row_bytes = page.rows.size() / page.height;
    for (std::uint32_t y = 0; y < page.height; ++y) {
      TIFFWriteScanline(tif, const_cast<std::uint8_t*>(page.rows.data() + y * row_bytes), y, 0);
    }
    TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
  return ReadAll(path);
}

struct ReadPage {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint16_t bits = 0;
  std::uint16_t samples = 0;
  std::uint16_t photometric = 0;
  std::uint16_t compression = 0;
  bool has_description = false;
  float x_resolution = 0;
  Bytes rows;
};

std::vector<ReadPage> ReadTiff(const Bytes& file) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/out.tif";
  WriteAll(path, file);
  std::vector<ReadPage> pages;
  TIFF* tif = TIFFOpen(path.c_str(), "r");
  EXPECT_NE(tif, nullptr);
  if (tif == nullptr) return pages;
  do {
    ReadPage page;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page.width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page.height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &page.bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &page.samples);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &page.photometric);
    TIFFGetField(tif, TIFFTAG_COMPRESSION, &page.compression);
    TIFFGetField(tif, TIFFTAG_XRESOLUTION, &page.x_resolution);
    char* description = nullptr;
    page.has_description = TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &description) != 0;
    std::uint16_t planar = PLANARCONFIG_CONTIG;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    const std::size_t planes = planar == PLANARCONFIG_SEPARATE ? page.samples : 1;
    const auto row_bytes = static_cast<std::size_t>(TIFFScanlineSize(tif));
    page.rows.resize(row_bytes * page.height * planes);
    for (std::size_t plane = 0; plane < planes; ++plane) {
      for (std::uint32_t y = 0; y < page.height; ++y) {
        EXPECT_EQ(TIFFReadScanline(tif, page.rows.data() + (plane * page.height + y) * row_bytes, y,
                                   static_cast<std::uint16_t>(plane)),
                  1);
      }
    }
    pages.push_back(std::move(page));
  } while (TIFFReadDirectory(tif) != 0);
  TIFFClose(tif);
  return pages;
}

TEST(ImageDisarm, MultiPageTiffKeepsEveryPageAndItsPixels) {
  // A scanned record: a grey page, a colour page, a bilevel (fax-like) page of odd width.
  const std::vector<TiffPageSpec> pages = {
      MakePage(20, 10, 8, 1, PHOTOMETRIC_MINISBLACK, 1),
      MakePage(12, 6, 8, 3, PHOTOMETRIC_RGB, 2),
      MakePage(33, 5, 1, 1, PHOTOMETRIC_MINISWHITE, 3),
      MakePage(7, 4, 16, 1, PHOTOMETRIC_MINISBLACK, 4),
  };
  for (const std::uint16_t compression : {COMPRESSION_NONE, COMPRESSION_LZW}) {
    const Bytes tiff = WriteTiff(pages, /*with_metadata=*/true, compression);
    Disarmed d = RunImage(tiff, "tiff");
    ASSERT_OK(d.result);
    const std::vector<ReadPage> out = ReadTiff(*d.result);
    ASSERT_EQ(out.size(), pages.size());
    for (std::size_t p = 0; p < pages.size(); ++p) {
      SCOPED_TRACE("page " + std::to_string(p + 1));
      EXPECT_EQ(out[p].width, pages[p].width);
      EXPECT_EQ(out[p].height, pages[p].height);
      EXPECT_EQ(out[p].bits, pages[p].bits);
      EXPECT_EQ(out[p].samples, pages[p].samples);
      EXPECT_EQ(out[p].photometric, pages[p].photometric);
      EXPECT_EQ(out[p].compression, COMPRESSION_LZW);
      EXPECT_FALSE(out[p].has_description);
      EXPECT_FLOAT_EQ(out[p].x_resolution, 300.0F);
      EXPECT_EQ(out[p].rows, pages[p].rows);
    }
    const SanitizeFinding* metadata = Find(d.findings, "metadata");
    ASSERT_NE(metadata, nullptr);
    EXPECT_THAT(metadata->detail, HasSubstr("descriptions"));
    EXPECT_THAT(metadata->detail, Not(HasSubstr("somebody")));
  }
  // Without metadata there is nothing to report, but the file is still re-encoded.
  Disarmed plain = RunImage(WriteTiff(pages, false), "tiff");
  ASSERT_OK(plain.result);
  EXPECT_TRUE(plain.findings.empty());
}

// Tiles are put back together into rows; separate colour planes stay separate.
TEST(ImageDisarm, TiledAndPlanarTiffKeepTheirPixels) {
  testing::TempDir dir;
  const std::uint32_t width = 40;
  const std::uint32_t height = 20;
  auto sample = [](std::uint32_t x, std::uint32_t y, std::uint32_t c) {
    return static_cast<std::uint8_t>(x * 5 + y * 11 + c * 70);
  };
  Bytes expected;
  for (std::uint32_t y = 0; y < height; ++y) {
    for (std::uint32_t x = 0; x < width; ++x) {
      for (std::uint32_t c = 0; c < 3; ++c) expected.push_back(sample(x, y, c));
    }
  }

  const std::string tiled_path = dir.path() + "/tiled.tif";
  TIFF* tif = TIFFOpen(tiled_path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
  TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
  for (std::uint32_t ty = 0; ty < height; ty += 16) {
    for (std::uint32_t tx = 0; tx < width; tx += 16) {
      Bytes tile(std::size_t{16} * 16 * 3, 0);
      for (std::uint32_t y = 0; y < 16 && ty + y < height; ++y) {
        for (std::uint32_t x = 0; x < 16 && tx + x < width; ++x) {
          for (std::uint32_t c = 0; c < 3; ++c) {
            tile[(std::size_t{y} * 16 + x) * 3 + c] = sample(tx + x, ty + y, c);
          }
        }
      }
      ASSERT_GT(TIFFWriteTile(tif, tile.data(), tx, ty, 0, 0), 0);
    }
  }
  TIFFClose(tif);
  Disarmed tiled = RunImage(ReadAll(tiled_path), "tiff");
  ASSERT_OK(tiled.result);
  std::vector<ReadPage> out = ReadTiff(*tiled.result);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rows, expected);

  const std::string planar_path = dir.path() + "/planar.tif";
  tif = TIFFOpen(planar_path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 7);
  Bytes planes;
  for (std::uint16_t c = 0; c < 3; ++c) {
    for (std::uint32_t y = 0; y < height; ++y) {
      Bytes row;
      for (std::uint32_t x = 0; x < width; ++x) row.push_back(sample(x, y, c));
      planes.insert(planes.end(), row.begin(), row.end());
      ASSERT_EQ(TIFFWriteScanline(tif, row.data(), y, c), 1);
    }
  }
  TIFFClose(tif);
  Disarmed planar = RunImage(ReadAll(planar_path), "tiff");
  ASSERT_OK(planar.result);
  out = ReadTiff(*planar.result);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rows, planes);
}

// YCbCr JPEG-in-TIFF goes through libtiff's RGBA conversion: same size, pixels close.
TEST(ImageDisarm, TiffInOtherColourSpacesIsConvertedToRgb) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/ycbcr.tif";
  const std::uint32_t width = 32;
  const std::uint32_t height = 16;
  const Bytes pixels = SmoothRgb(width, height);
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
  TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16);
  for (std::uint32_t y = 0; y < height; ++y) {
    TIFFWriteScanline(tif, const_cast<std::uint8_t*>(pixels.data() + std::size_t{y} * width * 3), y,
                      0);
  }
  TIFFClose(tif);

  Disarmed d = RunImage(ReadAll(path), "tiff");
  ASSERT_OK(d.result);
  const std::vector<ReadPage> out = ReadTiff(*d.result);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].width, width);
  EXPECT_EQ(out[0].height, height);
  EXPECT_EQ(out[0].photometric, PHOTOMETRIC_RGB);
  ASSERT_EQ(out[0].rows.size(), pixels.size());
  double total = 0;
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    total += std::abs(int{pixels[i]} - int{out[0].rows[i]});
  }
  EXPECT_LT(total / static_cast<double>(pixels.size()), 4.0);
}

// One 8-bit grey page, its directory at offset 8 and its pixels (all 0x80) after it.
Bytes HandMadeTiff(std::uint32_t width, std::uint32_t height, std::uint32_t next_directory) {
  Bytes tiff;
  Append(tiff, std::string_view("II*\0\x08\0\0\0", 8));
  auto u16 = [&tiff](std::uint32_t v) {
    tiff.push_back(static_cast<std::uint8_t>(v));
    tiff.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  auto u32 = [&u16](std::uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  };
  auto entry = [&](std::uint32_t tag, std::uint32_t type, std::uint32_t value) {
    u16(tag);
    u16(type);
    u32(1);
    u32(value);
  };
  constexpr std::uint32_t kEntries = 7;
  const std::uint32_t data_at = 8 + 2 + kEntries * 12 + 4;
  u16(kEntries);
  entry(256, 4, width);    // ImageWidth.
  entry(257, 4, height);   // ImageLength.
  entry(258, 3, 8);        // BitsPerSample.
  entry(262, 3, 1);        // Photometric: min-is-black.
  entry(273, 4, data_at);  // StripOffsets.
  entry(278, 4, height);   // RowsPerStrip.
  entry(279, 4, 16);       // StripByteCounts.
  u32(next_directory);
  tiff.insert(tiff.end(), 16, 0x80);
  return tiff;
}

TEST(ImageDisarm, TiffTruncatedHugeOrLoopedIsRefused) {
  const Bytes tiff = WriteTiff({MakePage(20, 10, 8, 1, PHOTOMETRIC_MINISBLACK, 1),
                                MakePage(20, 10, 8, 1, PHOTOMETRIC_MINISBLACK, 2)},
                               false, COMPRESSION_LZW);
  // libtiff writes the pixel data first and the directory after it: cutting the file loses
  // the second page's directory or data.
  for (const std::size_t keep : {tiff.size() - 30, std::size_t{100}, std::size_t{6}}) {
    Disarmed d =
        RunImage(Bytes(tiff.begin(), tiff.begin() + static_cast<std::ptrdiff_t>(keep)), "tiff");
    EXPECT_THAT(d.result, StatusIs(StatusCode::kInvalidArgument)) << keep;
    if (!d.result.has_value()) {
      EXPECT_THAT(d.result.error().message(), HasSubstr("malformed TIFF")) << keep;
    }
  }

  // One page of 20 x 10 pixels, against a limit of 100.
  Disarmed limited = RunImage(tiff, "tiff", /*max_pixels=*/100);
  EXPECT_THAT(limited.result, StatusIs(StatusCode::kFailedPrecondition));
  const SanitizeFinding* limit = Find(limited.findings, "limit-exceeded");
  ASSERT_NE(limit, nullptr);
  EXPECT_EQ(limit->location, "page 1");

  // A hand-made header whose one directory declares 100000 x 100000 pixels.
  Disarmed declared = RunImage(HandMadeTiff(100000, 100000, 0), "tiff");
  EXPECT_THAT(declared.result, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(Find(declared.findings, "limit-exceeded"), nullptr);

  // The directory's "next" offset pointing back at itself: a loop, not an endless job. libtiff
  // notices the loop; the result is one page or a refusal, never a hang.
  Disarmed loop = RunImage(HandMadeTiff(4, 4, 8), "tiff");
  if (loop.result.has_value()) {
    EXPECT_EQ(ReadTiff(*loop.result).size(), 1u);
  } else {
    EXPECT_THAT(loop.result, StatusIs(StatusCode::kInvalidArgument));
  }
}

// End to end: the sanitiser detects the PNG, re-encodes it and calls that "disarmed".
TEST(ImageDisarm, SanitizeReencodesImages) {
  Bytes png = EncodePng(Gradient(8, 8), false, {}, {{"Author", "x"}});
  SanitizeOptions options;
  Result<SanitizeOutcome> outcome = Sanitize(png, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "png");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_EQ(DecodePng(outcome->output).rows, Gradient(8, 8).rows);

  Append(png, kZipTail);
  options.policy.default_action = SanitizeAction::kHold;
  outcome = Sanitize(png, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kHeld);  // Trailing data is active.
}

}  // namespace
}  // namespace hokan::sanitize_internal
