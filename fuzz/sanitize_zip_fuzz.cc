// libFuzzer target for the zip and OOXML disarmers (src/sanitize/archive.cc, ooxml.cc) and the
// zip reading under them (internal/zip.h): arbitrary bytes through DetectZipType(), then
// DisarmOoxml() for an Office package or DisarmZip() for anything else, with small limits, so
// libzip's parser, the raw central-directory walk, the name checks, libxml2 on content types and
// relationships, and the package repair all see hostile structure directly. Nothing may crash,
// hang or leak, and a disarmed output must itself open as a zip.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "base/bytes.h"
#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/internal/zip.h"
#include "sanitize/sanitize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hokan;                     // NOLINT(google-build-using-namespace): a harness.
  using namespace hokan::sanitize_internal;  // NOLINT(google-build-using-namespace)
  SanitizeOptions options;
  options.limits.max_input_bytes = 1 << 20;
  options.limits.max_expanded_bytes = 8 << 20;
  options.limits.max_expansion_ratio = 50;
  options.limits.max_archive_entries = 64;
  options.limits.max_depth = 2;
  options.limits.max_image_pixels = 1'000'000;
  if (size == 0 || size > options.limits.max_input_bytes) return 0;  // As Sanitize() does.
  // libzip is not instrumented, so from raw bytes alone libFuzzer rarely gets past its parser.
  // The first byte chooses: raw bytes (odd), or a well-formed package whose parts are cut from
  // the input (even), so the OOXML repair and the XML handling see hostile content directly.
  Bytes built;
  ByteView in(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    static constexpr const char* kNames[] = {"[Content_Types].xml", "_rels/.rels",
                                             "word/document.xml",   "word/_rels/document.xml.rels",
                                             "word/vbaProject.bin", "xl/workbook.xml"};
    ZipWriter writer;
    std::size_t at = 0;
    for (const char* name : kNames) {
      // Each part is the input up to the next 0xFF byte.
      std::size_t end = at;
      while (end < in.size() && in[end] != 0xFF) ++end;
      if (!writer.Add(name, Bytes(in.begin() + at, in.begin() + end)).ok()) return 0;
      at = std::min(in.size(), end + 1);
    }
    Result<Bytes> zip = writer.Finish();
    if (!zip.has_value()) return 0;
    built = std::move(*zip);
    in = built;
  }
  const std::optional<DetectedType> type = DetectZipType(in);
  Context ctx(options);
  Result<Bytes> out =
      type && IsOoxmlType(type->name) ? DisarmOoxml(in, *type, ctx) : DisarmZip(in, ctx);
  if (out.has_value() && !ctx.blocked() && !ZipReader::Open(*out).has_value()) std::abort();
  return 0;
}
