// Image disarmer (docs/sanitize/images.md): PNG, JPEG and TIFF are decoded to pixels and
// encoded again, so nothing but the pixels (and the few numbers needed to show them: palette,
// transparency, colour space, resolution, orientation) survives — no metadata, no private
// chunks, no data after the image's end (the payload of a polyglot).
//
// The three libraries are C: libpng and libjpeg report errors by longjmp. Every function that
// calls setjmp below holds only trivially destructible locals and is small, so a longjmp never
// skips a C++ destructor; buffers are allocated by the caller, between the library calls.
// Nothing is printed: the libraries' messages go into the returned Status.
#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// jpeglib.h needs FILE and size_t first.
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include "sanitize/internal/disarm.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;

// Library messages are kept short; they name structures, never pixel data.
constexpr std::size_t kMessageSize = 200;

// Copies into a buffer of kMessageSize bytes.
void CopyMessage(char* to, const char* from) {
  if (from == nullptr) from = "unknown error";
  std::size_t i = 0;
  for (; i + 1 < kMessageSize && from[i] != '\0'; ++i) to[i] = from[i];
  to[i] = '\0';
}

Status Malformed(std::string_view format, const char* message) {
  return InvalidArgumentError("malformed " + std::string(format) + ": " + message);
}

// Width x height against max_image_pixels, before anything of that size is allocated.
Status CheckPixels(Context& ctx, std::string_view format, const std::string& location,
                   std::uint64_t width, std::uint64_t height) {
  if (width == 0 || height == 0) return Malformed(format, "the image has no pixels");
  const std::uint64_t limit = ctx.limits().max_image_pixels;
  // Both are below 2^32, so the product cannot overflow.
  if (width * height <= limit) return OkStatus();
  ctx.Add("limit-exceeded", location, Action::kBlocked,
          "The image declares " + std::to_string(width) + " x " + std::to_string(height) +
              " pixels, more than " + std::to_string(limit) + " (max_image_pixels).",
          false);
  return FailedPreconditionError("the image has more pixels than the limit of " +
                                 std::to_string(limit));
}

void AddTrailing(Context& ctx, std::string_view format, ByteView in, std::size_t end) {
  if (end >= in.size()) return;
  const std::size_t extra = in.size() - end;
  // Zero padding (some cameras and scanners write it) can carry nothing; anything else after
  // the end is what a polyglot hides.
  bool zeros = true;
  for (std::size_t i = end; i < in.size() && zeros; ++i) zeros = in[i] == 0;
  ctx.Add("trailing-data", "offset " + std::to_string(end), Action::kRemoved,
          std::to_string(extra) + " bytes after the end of the " + std::string(format) +
              " image were removed.",
          !zeros);
}

// ---------------------------------------------------------------------------------------------
// PNG

struct PngSource {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos;
  char message[kMessageSize];
};

struct PngSink {
  Bytes* out;
  char message[kMessageSize];
};

[[noreturn]] void PngError(png_structp png, png_const_charp message) {
  // The error pointer is the message buffer of the PngSource or PngSink.
  CopyMessage(static_cast<char*>(png_get_error_ptr(png)), message);
  png_longjmp(png, 1);
}

void PngWarning(png_structp, png_const_charp) {}

void PngRead(png_structp png, png_bytep data, png_size_t length) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (length > source->size - source->pos) png_error(png, "the file is truncated");
  std::memcpy(data, source->data + source->pos, length);
  source->pos += length;
}

void PngWrite(png_structp png, png_bytep data, png_size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  try {
    sink->out->insert(sink->out->end(), data, data + length);
  } catch (...) {
    png_error(png, "out of memory");
  }
}

void PngFlush(png_structp) {}

// Ancillary chunks that are kept: they describe how to show the pixels and hold only numbers.
constexpr std::string_view kPngKept[] = {"IHDR", "PLTE", "IDAT", "IEND", "tRNS",
                                         "gAMA", "cHRM", "sRGB", "pHYs"};
// Chunks libpng would otherwise parse (and decompress) only for them to be dropped.
constexpr png_byte kPngIgnored[] =
    "tEXt\0zTXt\0iTXt\0eXIf\0iCCP\0tIME\0sPLT\0hIST\0bKGD\0oFFs\0pCAL\0sCAL\0sBIT";
constexpr std::string_view kPngNamed[] = {"tEXt", "zTXt", "iTXt", "eXIf", "iCCP", "tIME",
                                          "sPLT", "hIST", "bKGD", "oFFs", "pCAL", "sCAL",
                                          "sBIT", "acTL", "fcTL", "fdAT"};

// Walks the chunk list (lengths only; libpng checks everything else) and names what will be
// dropped. Chunk types outside the PNG specification are only counted.
std::string PngDroppedChunks(ByteView in) {
  std::vector<std::string_view> named;
  std::size_t others = 0;
  std::size_t pos = 8;
  while (in.size() - pos >= 12) {
    const std::uint32_t length = (std::uint32_t{in[pos]} << 24) |
                                 (std::uint32_t{in[pos + 1]} << 16) |
                                 (std::uint32_t{in[pos + 2]} << 8) | std::uint32_t{in[pos + 3]};
    const std::string_view type = AsChars(in.subspan(pos + 4, 4));
    if (type == "IEND" || length > in.size() - pos - 12) break;
    pos += 12 + std::size_t{length};
    if (std::find(std::begin(kPngKept), std::end(kPngKept), type) != std::end(kPngKept)) continue;
    const auto* known = std::find(std::begin(kPngNamed), std::end(kPngNamed), type);
    if (known == std::end(kPngNamed)) {
      ++others;
    } else if (std::find(named.begin(), named.end(), *known) == named.end()) {
      named.push_back(*known);
    }
  }
  std::string list;
  for (std::string_view name : named) list += (list.empty() ? "" : ", ") + std::string(name);
  if (others > 0) {
    list += (list.empty() ? "" : ", ") + std::to_string(others) + " private chunk(s)";
  }
  return list;
}

struct PngReadGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_infop end = nullptr;
  PngReadGuard() = default;
  PngReadGuard(const PngReadGuard&) = delete;
  PngReadGuard& operator=(const PngReadGuard&) = delete;
  ~PngReadGuard() { png_destroy_read_struct(&png, &info, &end); }
};

struct PngWriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  PngWriteGuard() = default;
  PngWriteGuard(const PngWriteGuard&) = delete;
  PngWriteGuard& operator=(const PngWriteGuard&) = delete;
  ~PngWriteGuard() { png_destroy_write_struct(&png, &info); }
};

// setjmp scopes: trivially destructible locals only.
bool PngReadHeader(png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, kPngIgnored,
                              static_cast<int>(sizeof(kPngIgnored) / 5));
  png_read_info(png, info);
  png_set_interlace_handling(png);  // Interlaced images are read whole, written progressive.
  png_read_update_info(png, info);
  return true;
}

bool PngReadPixels(png_structp png, png_infop end, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, end);
  return true;
}

bool PngWritePixels(png_structp rpng, png_infop rinfo, png_structp wpng, png_infop winfo,
                    png_bytepp rows) {
  if (setjmp(png_jmpbuf(wpng))) return false;
  png_set_IHDR(wpng, winfo, png_get_image_width(rpng, rinfo), png_get_image_height(rpng, rinfo),
               png_get_bit_depth(rpng, rinfo), png_get_color_type(rpng, rinfo), PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_colorp palette = nullptr;
  int num_palette = 0;
  if (png_get_PLTE(rpng, rinfo, &palette, &num_palette) != 0) {
    png_set_PLTE(wpng, winfo, palette, num_palette);
  }
  png_bytep trans_alpha = nullptr;
  int num_trans = 0;
  png_color_16p trans_color = nullptr;
  if (png_get_tRNS(rpng, rinfo, &trans_alpha, &num_trans, &trans_color) != 0) {
    png_set_tRNS(wpng, winfo, trans_alpha, num_trans, trans_color);
  }
  int intent = 0;
  if (png_get_sRGB(rpng, rinfo, &intent) != 0) png_set_sRGB(wpng, winfo, intent);
  png_fixed_point gamma = 0;
  if (png_get_gAMA_fixed(rpng, rinfo, &gamma) != 0) png_set_gAMA_fixed(wpng, winfo, gamma);
  png_fixed_point c[8] = {};
  if (png_get_cHRM_fixed(rpng, rinfo, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]) !=
      0) {
    png_set_cHRM_fixed(wpng, winfo, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
  }
  png_uint_32 res_x = 0;
  png_uint_32 res_y = 0;
  int unit = 0;
  if (png_get_pHYs(rpng, rinfo, &res_x, &res_y, &unit) != 0) {
    png_set_pHYs(wpng, winfo, res_x, res_y, unit);
  }
  png_write_info(wpng, winfo);
  png_write_image(wpng, rows);
  png_write_end(wpng, nullptr);
  return true;
}

Result<Bytes> DisarmPng(ByteView in, Context& ctx) {
  PngSource source{in.data(), in.size(), 0, {}};
  if (in.size() < 8 || png_sig_cmp(in.data(), 0, 8) != 0) {
    return Malformed("PNG", "the PNG signature is missing");
  }
  PngReadGuard reader;
  reader.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source.message, PngError, PngWarning);
  if (reader.png == nullptr) return UnavailableError("libpng could not start");
  reader.info = png_create_info_struct(reader.png);
  reader.end = png_create_info_struct(reader.png);
  if (reader.info == nullptr || reader.end == nullptr) {
    return UnavailableError("libpng could not start");
  }
  png_set_read_fn(reader.png, &source, PngRead);
  if (!PngReadHeader(reader.png, reader.info)) return Malformed("PNG", source.message);

  const png_uint_32 width = png_get_image_width(reader.png, reader.info);
  const png_uint_32 height = png_get_image_height(reader.png, reader.info);
  HK_RETURN_IF_ERROR(CheckPixels(ctx, "PNG", "", width, height));
  const std::size_t row_bytes = png_get_rowbytes(reader.png, reader.info);
  const std::uint64_t total = std::uint64_t{row_bytes} * height;
  HK_RETURN_IF_ERROR(ctx.ChargeExpanded(total));

  Bytes pixels(total);
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = pixels.data() + std::size_t{y} * row_bytes;
  if (!PngReadPixels(reader.png, reader.end, rows.data())) {
    return Malformed("PNG", source.message);
  }

  const std::string dropped = PngDroppedChunks(in);
  if (!dropped.empty()) {
    ctx.Add("metadata", "", Action::kRemoved,
            "Chunks other than the pixels were dropped: " + dropped + ".", false);
  }
  AddTrailing(ctx, "PNG", in, source.pos);

  Bytes out;
  out.reserve(in.size());
  PngSink sink{&out, {}};
  PngWriteGuard writer;
  writer.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink.message, PngError, PngWarning);
  if (writer.png == nullptr) return UnavailableError("libpng could not start");
  writer.info = png_create_info_struct(writer.png);
  if (writer.info == nullptr) return UnavailableError("libpng could not start");
  png_set_write_fn(writer.png, &sink, PngWrite, PngFlush);
  if (!PngWritePixels(reader.png, reader.info, writer.png, writer.info, rows.data())) {
    return InternalError(std::string("the PNG could not be re-encoded: ") + sink.message);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JPEG

// Progressive JPEGs can hold thousands of tiny scans that each re-walk the whole image (a CPU
// bomb); libjpeg-turbo's own TurboJPEG API stops at 500 the same way.
constexpr int kMaxJpegScans = 500;

struct JpegError {
  jpeg_error_mgr mgr;  // First: libjpeg hands back a pointer to it.
  std::jmp_buf jump;
  char message[kMessageSize];
};

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* error = reinterpret_cast<JpegError*>(cinfo->err);
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  CopyMessage(error->message, text);
  std::longjmp(error->jump, 1);
}

// Warnings about corrupt data make the image malformed: libjpeg would fill the missing part
// with grey and carry on, and a truncated file would pass as a picture.
void JpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_NOT_SEQUENTIAL:
      JpegErrorExit(cinfo);
    default:
      return;
  }
}

void JpegOutputMessage(j_common_ptr) {}

void JpegProgress(j_common_ptr cinfo) {
  if (cinfo->is_decompressor == 0) return;
  if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number <= kMaxJpegScans) return;
  auto* error = reinterpret_cast<JpegError*>(cinfo->err);
  CopyMessage(error->message, "the progressive image has too many scans");
  std::longjmp(error->jump, 1);
}

void InitJpegError(JpegError& error) {
  jpeg_std_error(&error.mgr);
  error.mgr.error_exit = JpegErrorExit;
  error.mgr.emit_message = JpegEmitMessage;
  error.mgr.output_message = JpegOutputMessage;
  error.message[0] = '\0';
}

// The decoder, with destroy guaranteed; created inside a setjmp scope.
struct JpegDecoder {
  jpeg_decompress_struct cinfo{};
  JpegError error{};
  jpeg_progress_mgr progress{};
  bool created = false;
  JpegDecoder() = default;
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

struct JpegEncoder {
  jpeg_compress_struct cinfo{};
  JpegError error{};
  unsigned char* buffer = nullptr;  // malloc'ed by jpeg_mem_dest.
  unsigned long size = 0;           // NOLINT(google-runtime-int): libjpeg's type.
  bool created = false;
  JpegEncoder() = default;
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;
  ~JpegEncoder() {
    if (created) jpeg_destroy_compress(&cinfo);
    std::free(buffer);  // NOLINT: allocated by libjpeg with malloc.
  }
};

bool JpegReadHeader(JpegDecoder* d, const std::uint8_t* data, std::size_t size) {
  if (setjmp(d->error.jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  d->created = true;
  d->progress.progress_monitor = JpegProgress;
  d->cinfo.progress = &d->progress;
  jpeg_mem_src(&d->cinfo, data, static_cast<unsigned long>(size));  // NOLINT(google-runtime-int)
  // Markers are recorded to report them (a limit of 0 would skip them unrecorded); only APP1
  // (EXIF, for the orientation) keeps all its data.
  jpeg_save_markers(&d->cinfo, JPEG_COM, 1);
  for (int m = 0; m < 16; ++m) {
    jpeg_save_markers(&d->cinfo, JPEG_APP0 + m, m == 1 ? 0xFFFF : 1);
  }
  if (jpeg_read_header(&d->cinfo, TRUE) != JPEG_HEADER_OK) {
    CopyMessage(d->error.message, "the file holds no image");
    return false;
  }
  return true;
}

bool JpegReadPixels(JpegDecoder* d, J_COLOR_SPACE space, std::uint8_t* pixels, std::size_t stride) {
  if (setjmp(d->error.jump)) return false;
  d->cinfo.out_color_space = space;
  jpeg_start_decompress(&d->cinfo);
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = pixels + std::size_t{d->cinfo.output_scanline} * stride;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

struct JpegImage {
  const std::uint8_t* pixels;
  JDIMENSION width;
  JDIMENSION height;
  int components;
  J_COLOR_SPACE in_space;    // Of the pixels.
  J_COLOR_SPACE jpeg_space;  // Of the file to write.
  bool density;
  UINT8 density_unit;
  UINT16 x_density;
  UINT16 y_density;
};

bool JpegWrite(JpegEncoder* e, const JpegImage* image) {
  if (setjmp(e->error.jump)) return false;
  jpeg_create_compress(&e->cinfo);
  e->created = true;
  jpeg_mem_dest(&e->cinfo, &e->buffer, &e->size);
  e->cinfo.image_width = image->width;
  e->cinfo.image_height = image->height;
  e->cinfo.input_components = image->components;
  e->cinfo.in_color_space = image->in_space;
  jpeg_set_defaults(&e->cinfo);
  jpeg_set_colorspace(&e->cinfo, image->jpeg_space);
  jpeg_set_quality(&e->cinfo, 92, TRUE);
  if (image->density) {
    e->cinfo.density_unit = image->density_unit;
    e->cinfo.X_density = image->x_density;
    e->cinfo.Y_density = image->y_density;
  }
  jpeg_start_compress(&e->cinfo, TRUE);
  const std::size_t stride =
      std::size_t{image->width} * static_cast<std::size_t>(image->components);
  while (e->cinfo.next_scanline < e->cinfo.image_height) {
    // libjpeg's row pointer is not const, but it only reads from it.
    JSAMPROW row = const_cast<std::uint8_t*>(image->pixels) +  // NOLINT
                   std::size_t{e->cinfo.next_scanline} * stride;
    jpeg_write_scanlines(&e->cinfo, &row, 1);
  }
  jpeg_finish_compress(&e->cinfo);
  return true;
}

// The EXIF orientation (1..8) from an APP1 "Exif" segment; 1 when absent or unreadable.
int ExifOrientation(const std::uint8_t* data, std::size_t size) {
  if (size < 14 || std::memcmp(data, "Exif\0\0", 6) != 0) return 1;
  const std::uint8_t* tiff = data + 6;
  const std::size_t n = size - 6;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  auto u16 = [&](std::size_t at) -> std::uint32_t {
    return little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1];
  };
  auto u32 = [&](std::size_t at) -> std::uint32_t {
    return little ? u16(at) | (u16(at + 2) << 16) : (u16(at) << 16) | u16(at + 2);
  };
  const std::uint32_t ifd = u32(4);
  if (ifd > n - 2) return 1;
  const std::uint32_t count = u16(ifd);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t entry = ifd + 2 + std::size_t{i} * 12;
    if (entry + 12 > n) return 1;
    if (u16(entry) == 0x0112 && u16(entry + 2) == 3) {
      const std::uint32_t value = u16(entry + 8);
      return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
  }
  return 1;
}

// Applies an EXIF orientation to the pixels, so that the picture looks the same once the EXIF
// block that said how to turn it is gone.
Bytes Orient(const Bytes& pixels, std::size_t width, std::size_t height, std::size_t components,
             int orientation, std::size_t& out_width, std::size_t& out_height) {
  const bool transpose = orientation >= 5;
  out_width = transpose ? height : width;
  out_height = transpose ? width : height;
  Bytes out(pixels.size());
  for (std::size_t y = 0; y < out_height; ++y) {
    for (std::size_t x = 0; x < out_width; ++x) {
      std::size_t sx = x;
      std::size_t sy = y;
      switch (orientation) {
        case 2:
          sx = width - 1 - x;
          break;
        case 3:
          sx = width - 1 - x;
          sy = height - 1 - y;
          break;
        case 4:
          sy = height - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = height - 1 - x;
          break;
        case 7:
          sx = width - 1 - y;
          sy = height - 1 - x;
          break;
        case 8:
          sx = width - 1 - y;
          sy = x;
          break;
        default:
          break;
      }
      std::memcpy(&out[(y * out_width + x) * components], &pixels[(sy * width + sx) * components],
                  components);
    }
  }
  return out;
}

Result<Bytes> DisarmJpeg(ByteView in, Context& ctx) {
  JpegDecoder decoder;
  InitJpegError(decoder.error);
  decoder.cinfo.err = &decoder.error.mgr;
  if (!JpegReadHeader(&decoder, in.data(), in.size())) {
    return Malformed("JPEG", decoder.error.message);
  }
  jpeg_decompress_struct& cinfo = decoder.cinfo;
  HK_RETURN_IF_ERROR(CheckPixels(ctx, "JPEG", "", cinfo.image_width, cinfo.image_height));

  // The saved markers live until jpeg_finish_decompress(), so they are read now.
  int orientation = 1;
  std::vector<std::string> dropped;
  auto note = [&dropped](std::string what) {
    if (std::find(dropped.begin(), dropped.end(), what) == dropped.end()) {
      dropped.push_back(std::move(what));
    }
  };
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_COM) {
      note("comments");
    } else if (m->marker == JPEG_APP0 + 1) {
      if (m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
        note("EXIF");
        if (orientation == 1) orientation = ExifOrientation(m->data, m->data_length);
      } else {
        note("XMP or other APP1 data");
      }
    } else if (m->marker == JPEG_APP0 + 2) {
      note("ICC profile or APP2 data");
    } else if (m->marker == JPEG_APP0 + 13) {
      note("IPTC/Photoshop data");
    } else if (m->marker == JPEG_APP0) {
      // A plain JFIF header is 14 bytes; more is an embedded thumbnail (JFIF or JFXX).
      if (m->original_length > 14) note("thumbnail");
    } else if (m->marker != JPEG_APP0 + 14) {  // APP14 "Adobe": colour transform only.
      note("APP" + std::to_string(m->marker - JPEG_APP0) + " data");
    }
  }
  J_COLOR_SPACE space = JCS_RGB;
  int components = 3;
  if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
    space = JCS_GRAYSCALE;
    components = 1;
  } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    space = JCS_CMYK;
    components = 4;
  }
  const std::size_t width = cinfo.image_width;
  const std::size_t height = cinfo.image_height;
  const std::size_t stride = width * static_cast<std::size_t>(components);
  HK_RETURN_IF_ERROR(ctx.ChargeExpanded(std::uint64_t{stride} * height));
  Bytes pixels(stride * height);
  if (!JpegReadPixels(&decoder, space, pixels.data(), stride)) {
    return Malformed("JPEG", decoder.error.message);
  }
  if (cinfo.output_width != width || cinfo.output_height != height ||
      cinfo.output_components != components) {
    return InternalError("libjpeg decoded a different size than the header declared");
  }

  if (!dropped.empty()) {
    std::string list;
    for (const std::string& d : dropped) list += (list.empty() ? "" : ", ") + d;
    ctx.Add("metadata", "", Action::kRemoved, "Metadata was dropped: " + list + ".", false);
  }
  AddTrailing(ctx, "JPEG", in, in.size() - cinfo.src->bytes_in_buffer);

  std::size_t out_width = width;
  std::size_t out_height = height;
  if (orientation != 1) {
    pixels = Orient(pixels, width, height, static_cast<std::size_t>(components), orientation,
                    out_width, out_height);
  }

  JpegImage image{};
  image.pixels = pixels.data();
  image.width = static_cast<JDIMENSION>(out_width);
  image.height = static_cast<JDIMENSION>(out_height);
  image.components = components;
  image.in_space = space;
  image.jpeg_space = space == JCS_GRAYSCALE ? JCS_GRAYSCALE
                     : space == JCS_CMYK
                         ? (cinfo.jpeg_color_space == JCS_YCCK ? JCS_YCCK : JCS_CMYK)
                         : JCS_YCbCr;
  image.density = cinfo.saw_JFIF_marker != 0;
  image.density_unit = cinfo.density_unit;
  image.x_density = orientation >= 5 ? cinfo.Y_density : cinfo.X_density;
  image.y_density = orientation >= 5 ? cinfo.X_density : cinfo.Y_density;

  JpegEncoder encoder;
  InitJpegError(encoder.error);
  encoder.cinfo.err = &encoder.error.mgr;
  if (!JpegWrite(&encoder, &image)) {
    return InternalError(std::string("the JPEG could not be re-encoded: ") + encoder.error.message);
  }
  return Bytes(encoder.buffer, encoder.buffer + encoder.size);
}

// ---------------------------------------------------------------------------------------------
// TIFF

// A scanned record can have hundreds of pages; ten thousand is beyond any real one.
constexpr int kMaxTiffPages = 10'000;
// One tile or strip buffer; far above real files, far below harm.
constexpr std::uint64_t kMaxTiffChunk = 256ull << 20;

struct TiffSource {
  ByteView data;
  std::uint64_t pos = 0;
};

struct TiffSink {
  Bytes data;
  std::uint64_t pos = 0;
};

struct TiffErrors {
  bool failed = false;
  char message[kMessageSize] = {};
};

int TiffOnError(TIFF*, void* user_data, const char*, const char* format, va_list args) {
  auto* errors = static_cast<TiffErrors*>(user_data);
  if (!errors->failed) {
    char text[kMessageSize];
    std::vsnprintf(text, sizeof text, format, args);  // NOLINT: libtiff's own format.
    CopyMessage(errors->message, text);
  }
  errors->failed = true;
  return 1;  // Handled: libtiff must not print.
}

int TiffOnWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

tmsize_t TiffSourceRead(thandle_t h, void* buffer, tmsize_t size) {
  auto* s = static_cast<TiffSource*>(h);
  if (size < 0 || s->pos >= s->data.size()) return 0;
  const std::uint64_t n =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(size), s->data.size() - s->pos);
  std::memcpy(buffer, s->data.data() + s->pos, n);
  s->pos += n;
  return static_cast<tmsize_t>(n);
}

tmsize_t TiffSourceWrite(thandle_t, void*, tmsize_t) { return -1; }

toff_t TiffSourceSeek(thandle_t h, toff_t offset, int whence) {
  auto* s = static_cast<TiffSource*>(h);
  std::uint64_t base = 0;
  if (whence == SEEK_CUR) base = s->pos;
  if (whence == SEEK_END) base = s->data.size();
  s->pos = base + offset;
  return s->pos;
}

toff_t TiffSourceSize(thandle_t h) { return static_cast<TiffSource*>(h)->data.size(); }

tmsize_t TiffSinkRead(thandle_t h, void* buffer, tmsize_t size) {
  auto* s = static_cast<TiffSink*>(h);
  if (size < 0 || s->pos >= s->data.size()) return 0;
  const std::uint64_t n =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(size), s->data.size() - s->pos);
  std::memcpy(buffer, s->data.data() + s->pos, n);
  s->pos += n;
  return static_cast<tmsize_t>(n);
}

tmsize_t TiffSinkWrite(thandle_t h, void* buffer, tmsize_t size) {
  auto* s = static_cast<TiffSink*>(h);
  if (size < 0) return -1;
  const auto n = static_cast<std::uint64_t>(size);
  try {
    if (s->pos + n > s->data.size()) s->data.resize(s->pos + n);
  } catch (...) {
    return -1;
  }
  std::memcpy(s->data.data() + s->pos, buffer, n);
  s->pos += n;
  return size;
}

toff_t TiffSinkSeek(thandle_t h, toff_t offset, int whence) {
  auto* s = static_cast<TiffSink*>(h);
  std::uint64_t base = 0;
  if (whence == SEEK_CUR) base = s->pos;
  if (whence == SEEK_END) base = s->data.size();
  s->pos = base + offset;
  return s->pos;
}

toff_t TiffSinkSize(thandle_t h) { return static_cast<TiffSink*>(h)->data.size(); }

int TiffClose(thandle_t) { return 0; }
int TiffMap(thandle_t, void**, toff_t*) { return 0; }
void TiffUnmap(thandle_t, void*, toff_t) {}

struct TiffHandle {
  TIFF* tif = nullptr;
  TiffHandle() = default;
  TiffHandle(const TiffHandle&) = delete;
  TiffHandle& operator=(const TiffHandle&) = delete;
  ~TiffHandle() {
    if (tif != nullptr) TIFFClose(tif);
  }
};

struct TiffOptions {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TiffOptions() = default;
  TiffOptions(const TiffOptions&) = delete;
  TiffOptions& operator=(const TiffOptions&) = delete;
  ~TiffOptions() { TIFFOpenOptionsFree(opts); }
};

// Tags that hold metadata rather than pixels, named in the report.
std::string_view TiffMetadataName(std::uint32_t tag) {
  switch (tag) {
    case TIFFTAG_DOCUMENTNAME:
    case TIFFTAG_IMAGEDESCRIPTION:
    case TIFFTAG_PAGENAME:
      return "descriptions";
    case TIFFTAG_MAKE:
    case TIFFTAG_MODEL:
    case TIFFTAG_SOFTWARE:
    case TIFFTAG_HOSTCOMPUTER:
    case TIFFTAG_ARTIST:
    case TIFFTAG_COPYRIGHT:
    case TIFFTAG_DATETIME:
      return "device, software, author and date";
    case TIFFTAG_XMLPACKET:
      return "XMP";
    case TIFFTAG_RICHTIFFIPTC:
    case TIFFTAG_PHOTOSHOP:
      return "IPTC/Photoshop data";
    case TIFFTAG_EXIFIFD:
    case TIFFTAG_GPSIFD:
      return "EXIF";
    case TIFFTAG_ICCPROFILE:
      return "ICC profile";
    case TIFFTAG_SUBIFD:
      return "sub-images";
    default:
      return "";
  }
}

// Tags in libtiff's list of "custom" values that describe the pixels; everything else there is
// metadata or private data.
bool TiffStructuralTag(std::uint32_t tag) {
  switch (tag) {
    case TIFFTAG_PAGENUMBER:
    case TIFFTAG_INKSET:
    case TIFFTAG_NUMBEROFINKS:
    case TIFFTAG_INKNAMES:
    case TIFFTAG_DOTRANGE:
    case TIFFTAG_HALFTONEHINTS:
    case TIFFTAG_WHITEPOINT:
    case TIFFTAG_PRIMARYCHROMATICITIES:
    case TIFFTAG_REFERENCEBLACKWHITE:
    case TIFFTAG_TRANSFERFUNCTION:
      return true;
    default:
      return false;
  }
}

struct TiffPage {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint16_t bits = 1;
  std::uint16_t samples = 1;
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
  std::uint16_t sample_format = SAMPLEFORMAT_UINT;
  std::uint16_t orientation = ORIENTATION_TOPLEFT;
  std::uint16_t compression = COMPRESSION_NONE;
  std::uint32_t subfile_type = 0;
  std::vector<std::uint16_t> extra_samples;
  bool has_resolution = false;
  float x_resolution = 0;
  float y_resolution = 0;
  std::uint16_t resolution_unit = RESUNIT_INCH;
  bool has_page_number = false;
  std::uint16_t page = 0;
  std::uint16_t pages = 0;
  std::vector<std::uint16_t> colormap;  // 3 x 2^bits entries for a palette image.
};

Status TiffFailure(const TiffErrors& errors, const char* fallback) {
  return Malformed("TIFF", errors.failed ? errors.message : fallback);
}

// Reads the page's pixels as libtiff decodes them (no conversion): one buffer per plane of
// `height` rows of `row_bytes`.
Status TiffReadNative(TIFF* tif, const TiffPage& page, std::uint64_t row_bytes, Bytes& pixels,
                      const TiffErrors& errors) {
  const std::uint32_t planes = page.planar == PLANARCONFIG_SEPARATE ? page.samples : 1;
  if (TIFFIsTiled(tif) != 0) {
    std::uint32_t tile_width = 0;
    std::uint32_t tile_height = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_width);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_height);
    const std::uint64_t tile_bytes = TIFFTileSize64(tif);
    const std::uint64_t tile_row = TIFFTileRowSize64(tif);
    const std::uint64_t pixel_bits =
        std::uint64_t{page.bits} * (page.planar == PLANARCONFIG_SEPARATE ? 1 : page.samples);
    if (tile_width == 0 || tile_height == 0 || tile_bytes == 0 || tile_bytes > kMaxTiffChunk ||
        tile_row * tile_height > tile_bytes || (tile_width * pixel_bits) % 8 != 0) {
      return TiffFailure(errors, "the tile layout is invalid");
    }
    Bytes tile(tile_bytes);
    for (std::uint32_t plane = 0; plane < planes; ++plane) {
      for (std::uint32_t y = 0; y < page.height; y += tile_height) {
        for (std::uint32_t x = 0; x < page.width; x += tile_width) {
          const std::uint32_t index = TIFFComputeTile(tif, x, y, 0, static_cast<tsample_t>(plane));
          if (TIFFReadEncodedTile(tif, index, tile.data(), static_cast<tmsize_t>(tile_bytes)) < 0) {
            return TiffFailure(errors, "a tile could not be decoded");
          }
          const std::uint64_t x_bytes = x * pixel_bits / 8;
          const std::uint64_t length = std::min(tile_row, row_bytes - x_bytes);
          const std::uint32_t rows = std::min(tile_height, page.height - y);
          for (std::uint32_t r = 0; r < rows; ++r) {
            std::memcpy(
                pixels.data() + (std::uint64_t{plane} * page.height + y + r) * row_bytes + x_bytes,
                tile.data() + r * tile_row, length);
          }
        }
      }
    }
    return OkStatus();
  }
  std::uint32_t rows_per_strip = page.height;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  if (rows_per_strip == 0 || rows_per_strip > page.height) rows_per_strip = page.height;
  const std::uint32_t strips_per_plane = (page.height + rows_per_strip - 1) / rows_per_strip;
  if (TIFFNumberOfStrips(tif) < strips_per_plane * planes) {
    return TiffFailure(errors, "strips are missing");
  }
  for (std::uint32_t plane = 0; plane < planes; ++plane) {
    for (std::uint32_t s = 0; s < strips_per_plane; ++s) {
      const std::uint32_t y = s * rows_per_strip;
      const std::uint32_t rows = std::min(rows_per_strip, page.height - y);
      const std::uint64_t length = rows * row_bytes;
      if (length > kMaxTiffChunk) return TiffFailure(errors, "a strip is too large");
      const tmsize_t got =
          TIFFReadEncodedStrip(tif, plane * strips_per_plane + s,
                               pixels.data() + (std::uint64_t{plane} * page.height + y) * row_bytes,
                               static_cast<tmsize_t>(length));
      if (got < 0 || errors.failed) return TiffFailure(errors, "a strip could not be decoded");
    }
  }
  return OkStatus();
}

Status TiffWritePage(TIFF* out, const TiffPage& page, std::uint64_t row_bytes, const Bytes& pixels,
                     const TiffErrors& errors) {
  TIFFSetField(out, TIFFTAG_SUBFILETYPE, page.subfile_type);
  TIFFSetField(out, TIFFTAG_IMAGEWIDTH, page.width);
  TIFFSetField(out, TIFFTAG_IMAGELENGTH, page.height);
  TIFFSetField(out, TIFFTAG_BITSPERSAMPLE, page.bits);
  TIFFSetField(out, TIFFTAG_SAMPLESPERPIXEL, page.samples);
  TIFFSetField(out, TIFFTAG_PHOTOMETRIC, page.photometric);
  TIFFSetField(out, TIFFTAG_PLANARCONFIG, page.planar);
  TIFFSetField(out, TIFFTAG_SAMPLEFORMAT, page.sample_format);
  TIFFSetField(out, TIFFTAG_ORIENTATION, page.orientation);
  TIFFSetField(out, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
  if ((page.bits == 8 || page.bits == 16) && page.sample_format != SAMPLEFORMAT_IEEEFP &&
      page.photometric != PHOTOMETRIC_PALETTE) {
    TIFFSetField(out, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
  }
  if (!page.extra_samples.empty()) {
    TIFFSetField(out, TIFFTAG_EXTRASAMPLES, static_cast<std::uint16_t>(page.extra_samples.size()),
                 page.extra_samples.data());
  }
  if (page.photometric == PHOTOMETRIC_PALETTE) {
    const std::size_t n = page.colormap.size() / 3;
    TIFFSetField(out, TIFFTAG_COLORMAP, page.colormap.data(), page.colormap.data() + n,
                 page.colormap.data() + 2 * n);
  }
  if (page.has_resolution) {
    TIFFSetField(out, TIFFTAG_XRESOLUTION, page.x_resolution);
    TIFFSetField(out, TIFFTAG_YRESOLUTION, page.y_resolution);
    TIFFSetField(out, TIFFTAG_RESOLUTIONUNIT, page.resolution_unit);
  }
  if (page.has_page_number) TIFFSetField(out, TIFFTAG_PAGENUMBER, page.page, page.pages);
  TIFFSetField(out, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(out, 0));
  const std::uint32_t planes = page.planar == PLANARCONFIG_SEPARATE ? page.samples : 1;
  for (std::uint32_t plane = 0; plane < planes; ++plane) {
    for (std::uint32_t y = 0; y < page.height; ++y) {
      // libtiff's row pointer is not const; it copies from it.
      auto* row = const_cast<std::uint8_t*>(pixels.data()) +  // NOLINT
                  (std::uint64_t{plane} * page.height + y) * row_bytes;
      if (TIFFWriteScanline(out, row, y, static_cast<std::uint16_t>(plane)) < 0) {
        return InternalError(std::string("the TIFF could not be re-encoded: ") + errors.message);
      }
    }
  }
  if (TIFFWriteDirectory(out) == 0) {
    return InternalError(std::string("the TIFF could not be re-encoded: ") + errors.message);
  }
  return OkStatus();
}

// Pixel layouts that are copied as decoded; anything else (YCbCr, old-style JPEG, CIE Lab ...)
// goes through libtiff's RGBA conversion.
bool TiffNative(const TiffPage& page) {
  const bool photometric_ok =
      page.photometric == PHOTOMETRIC_MINISWHITE || page.photometric == PHOTOMETRIC_MINISBLACK ||
      page.photometric == PHOTOMETRIC_RGB || page.photometric == PHOTOMETRIC_SEPARATED ||
      (page.photometric == PHOTOMETRIC_PALETTE && page.samples == 1 && page.bits <= 16);
  const bool bits_ok = page.bits == 1 || page.bits == 2 || page.bits == 4 || page.bits == 8 ||
                       page.bits == 16 || page.bits == 32;
  return photometric_ok && bits_ok && page.samples >= 1 && page.samples <= 8 &&
         page.compression != COMPRESSION_OJPEG;
}

Result<Bytes> DisarmTiff(ByteView in, Context& ctx) {
  TiffErrors read_errors;
  TiffOptions read_options;
  if (read_options.opts == nullptr) return UnavailableError("libtiff could not start");
  TIFFOpenOptionsSetErrorHandlerExtR(read_options.opts, TiffOnError, &read_errors);
  TIFFOpenOptionsSetWarningHandlerExtR(read_options.opts, TiffOnWarning, nullptr);
  TIFFOpenOptionsSetMaxSingleMemAlloc(read_options.opts, static_cast<tmsize_t>(kMaxTiffChunk));
  TiffSource source{in, 0};
  TiffHandle reader;
  // "m": no memory mapping; the procs read from the buffer.
  reader.tif =
      TIFFClientOpenExt("input", "rm", &source, TiffSourceRead, TiffSourceWrite, TiffSourceSeek,
                        TiffClose, TiffSourceSize, TiffMap, TiffUnmap, read_options.opts);
  if (reader.tif == nullptr) return TiffFailure(read_errors, "the TIFF header is invalid");

  TiffErrors write_errors;
  TiffOptions write_options;
  if (write_options.opts == nullptr) return UnavailableError("libtiff could not start");
  TIFFOpenOptionsSetErrorHandlerExtR(write_options.opts, TiffOnError, &write_errors);
  TIFFOpenOptionsSetWarningHandlerExtR(write_options.opts, TiffOnWarning, nullptr);
  TiffSink sink;
  TiffHandle writer;
  writer.tif = TIFFClientOpenExt("output", "w", &sink, TiffSinkRead, TiffSinkWrite, TiffSinkSeek,
                                 TiffClose, TiffSinkSize, TiffMap, TiffUnmap, write_options.opts);
  if (writer.tif == nullptr) return UnavailableError("libtiff could not start a new file");

  std::vector<std::string> dropped;
  std::size_t private_tags = 0;
  int page_number = 0;
  do {
    ++page_number;
    const std::string location = "page " + std::to_string(page_number);
    if (page_number > kMaxTiffPages) {
      ctx.Add("limit-exceeded", location, Action::kBlocked,
              "The TIFF has more than " + std::to_string(kMaxTiffPages) + " pages.", false);
      return FailedPreconditionError("the TIFF has too many pages");
    }
    TIFF* tif = reader.tif;
    TiffPage page;
    if (TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page.width) == 0 ||
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page.height) == 0) {
      return TiffFailure(read_errors, "a page has no width or height");
    }
    HK_RETURN_IF_ERROR(CheckPixels(ctx, "TIFF", location, page.width, page.height));
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &page.bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &page.samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &page.planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &page.sample_format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &page.orientation);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &page.compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &page.subfile_type);
    if (TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &page.photometric) == 0) {
      page.photometric = page.samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    }
    std::uint16_t extra_count = 0;
    std::uint16_t* extra = nullptr;
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra) != 0 && extra != nullptr) {
      page.extra_samples.assign(extra, extra + extra_count);
    }
    page.has_resolution = TIFFGetField(tif, TIFFTAG_XRESOLUTION, &page.x_resolution) != 0 &&
                          TIFFGetField(tif, TIFFTAG_YRESOLUTION, &page.y_resolution) != 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &page.resolution_unit);
    page.has_page_number = TIFFGetField(tif, TIFFTAG_PAGENUMBER, &page.page, &page.pages) != 0;
    if (page.photometric == PHOTOMETRIC_PALETTE && page.bits <= 16) {
      std::uint16_t* red = nullptr;
      std::uint16_t* green = nullptr;
      std::uint16_t* blue = nullptr;
      if (TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue) == 0) {
        return TiffFailure(read_errors, "a palette image has no colour map");
      }
      const std::size_t n = std::size_t{1} << page.bits;
      page.colormap.reserve(3 * n);
      page.colormap.insert(page.colormap.end(), red, red + n);
      page.colormap.insert(page.colormap.end(), green, green + n);
      page.colormap.insert(page.colormap.end(), blue, blue + n);
    }

    const int tag_count = TIFFGetTagListCount(tif);
    for (int i = 0; i < tag_count; ++i) {
      const std::uint32_t tag = TIFFGetTagListEntry(tif, i);
      if (TiffStructuralTag(tag)) continue;
      const std::string_view name = TiffMetadataName(tag);
      if (name.empty()) {
        ++private_tags;
      } else if (std::find(dropped.begin(), dropped.end(), name) == dropped.end()) {
        dropped.emplace_back(name);
      }
    }

    Bytes pixels;
    std::uint64_t row_bytes = 0;
    if (TiffNative(page)) {
      row_bytes = TIFFScanlineSize64(tif);
      const std::uint64_t planes = page.planar == PLANARCONFIG_SEPARATE ? page.samples : 1;
      if (row_bytes == 0) return TiffFailure(read_errors, "a page has an invalid row size");
      HK_RETURN_IF_ERROR(ctx.ChargeExpanded(row_bytes * page.height * planes));
      pixels.resize(row_bytes * page.height * planes);
      HK_RETURN_IF_ERROR(TiffReadNative(tif, page, row_bytes, pixels, read_errors));
    } else {
      // libtiff converts to 8-bit RGBA. Asking for the file's own orientation keeps the rows in
      // stored order, so the orientation tag is copied as it is.
      const std::uint64_t count = std::uint64_t{page.width} * page.height;
      HK_RETURN_IF_ERROR(ctx.ChargeExpanded(count * 4));
      std::vector<std::uint32_t> raster(count);
      if (TIFFReadRGBAImageOriented(tif, page.width, page.height, raster.data(), page.orientation,
                                    0) == 0) {
        return TiffFailure(read_errors, "a page could not be decoded");
      }
      const bool alpha = !page.extra_samples.empty();
      const std::uint16_t channels = alpha ? 4 : 3;
      row_bytes = std::uint64_t{page.width} * channels;
      pixels.resize(row_bytes * page.height);
      for (std::uint64_t p = 0; p < count; ++p) {
        const std::uint32_t v = raster[p];
        std::uint8_t* to = pixels.data() + p * channels;
        to[0] = static_cast<std::uint8_t>(TIFFGetR(v));
        to[1] = static_cast<std::uint8_t>(TIFFGetG(v));
        to[2] = static_cast<std::uint8_t>(TIFFGetB(v));
        if (alpha) to[3] = static_cast<std::uint8_t>(TIFFGetA(v));
      }
      page.bits = 8;
      page.samples = channels;
      page.photometric = PHOTOMETRIC_RGB;
      page.planar = PLANARCONFIG_CONTIG;
      page.sample_format = SAMPLEFORMAT_UINT;
      page.extra_samples.assign(alpha ? 1 : 0, EXTRASAMPLE_UNASSALPHA);
    }
    if (read_errors.failed) return TiffFailure(read_errors, "a page could not be decoded");
    HK_RETURN_IF_ERROR(TiffWritePage(writer.tif, page, row_bytes, pixels, write_errors));
  } while (TIFFReadDirectory(reader.tif) != 0);
  // TIFFReadDirectory returns 0 both at the end and on a broken chain (loops included).
  if (read_errors.failed) return TiffFailure(read_errors, "the directory chain is broken");

  if (private_tags > 0) dropped.push_back(std::to_string(private_tags) + " private tag(s)");
  if (!dropped.empty()) {
    std::string list;
    for (const std::string& d : dropped) list += (list.empty() ? "" : ", ") + d;
    ctx.Add("metadata", "", Action::kRemoved, "Metadata was dropped: " + list + ".", false);
  }
  TIFFClose(writer.tif);
  writer.tif = nullptr;
  if (write_errors.failed) {
    return InternalError(std::string("the TIFF could not be re-encoded: ") + write_errors.message);
  }
  return std::move(sink.data);
}

}  // namespace

Result<Bytes> DisarmImage(ByteView in, const DetectedType& type, Context& ctx) {
  try {
    if (type.name == "png") return DisarmPng(in, ctx);
    if (type.name == "jpeg") return DisarmJpeg(in, ctx);
    if (type.name == "tiff") return DisarmTiff(in, ctx);
    return InternalError("no image disarmer for type " + type.name);
  } catch (const std::bad_alloc&) {
    return UnavailableError("out of memory while re-encoding an image");
  }
}

}  // namespace hokan::sanitize_internal
