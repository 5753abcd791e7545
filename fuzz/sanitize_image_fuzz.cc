// libFuzzer target for the image disarmer (src/sanitize/image.cc: libpng, libjpeg, libtiff).
// The first byte picks the format, the rest is the file. Nothing may crash, hang, leak, print or
// allocate beyond the limits; a re-encoded image must itself disarm without error, with no
// trailing data and no metadata left.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hokan::sanitize_internal::Context;
  if (size == 0) return 0;
  static const char* const kTypes[] = {"png", "jpeg", "tiff"};
  const hokan::DetectedType type = hokan::sanitize_internal::MakeType(kTypes[data[0] % 3]);
  hokan::SanitizeOptions options;
  options.limits.max_input_bytes = 1 << 20;
  options.limits.max_expanded_bytes = 64 << 20;
  options.limits.max_image_pixels = 1'000'000;
  Context ctx(options);
  const hokan::ByteView input(data + 1, size - 1);
  hokan::Result<hokan::Bytes> out = hokan::sanitize_internal::DisarmImage(input, type, ctx);
  if (!out.has_value()) return 0;
  Context again(options);
  hokan::Result<hokan::Bytes> twice = hokan::sanitize_internal::DisarmImage(*out, type, again);
  if (!twice.has_value()) std::abort();
  for (const hokan::SanitizeFinding& finding : again.findings()) {
    if (finding.kind == "trailing-data" || finding.kind == "metadata") std::abort();
  }
  return 0;
}
