// libFuzzer target for the zip and OOXML disarmers (src/sanitize/archive.cc, ooxml.cc) and the
// zip reading under them (internal/zip.h): arbitrary bytes through DetectZipType(), then
// DisarmOoxml() for an Office package or DisarmZip() for anything else, with small limits, so
// libzip's parser, the raw central-directory walk, the name checks, libxml2 on content types and
// relationships, and the package repair all see hostile structure directly. Nothing may crash,
// hang or leak, and a disarmed output must itself open as a zip.
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
  if (size > options.limits.max_input_bytes) return 0;  // Sanitize() refuses these before us.
  const ByteView in(data, size);
  const std::optional<DetectedType> type = DetectZipType(in);
  Context ctx(options);
  Result<Bytes> out =
      type && IsOoxmlType(type->name) ? DisarmOoxml(in, *type, ctx) : DisarmZip(in, ctx);
  if (out.has_value() && !ctx.blocked() && !ZipReader::Open(*out).has_value()) std::abort();
  return 0;
}
